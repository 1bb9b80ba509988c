"""Sentences written at the reader (or at an AI assistant) instead of about the study: planted instructions.

A study document tells sites what to do ("Subjects must fast for 8 hours", "Email the SAE form to
safety@…"), so imperatives alone prove nothing. What a protocol never does is ask the reader for
their own credentials, tell an assistant to ignore its instructions, or send the reader to a link to
"verify" an account. Those sentences are flagged at ingest and never quoted as an answer. The rules
are narrow on purpose: a false positive hides a real sentence of a protocol.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Protocol, TypeVar

from knowledge.sentences import sentence_spans
from knowledge.types import Answer

_CREDENTIAL = (
    r"(?:pass(?:word|code|phrase)s?|pins?|credentials?|log-?in(?: details| credentials| info(?:rmation)?)?|"
    r"user ?names? and pass\w+|sign-?in details|account details|(?:2fa|mfa|otp|one-time|verification|security) codes?|"
    r"api keys?|access tokens?|secret keys?|private keys?|bank (?:details|account)|credit card(?: number)?s?|"
    r"social security numbers?|ssn)"
)
_DISCLOSE = (
    r"(?:send|e-?mail|mail|share|provide|give|tell|reply|respond|forward|submit|post|paste|text|message|dm|"
    r"disclose|reveal|include)"
)
# Where an imperative starts: the sentence or clause start, "please", "you must"; not "the vendor will email".
_IMPERATIVE = (
    r"(?:^|[,:;(]\s*|\b(?:please|kindly|immediately|now|also|then|and|or|just|simply)\s+|"
    r"\byou\s+(?:must|should|need\s+to|have\s+to|are\s+required\s+to|will\s+need\s+to)\s+)"
)
_NEGATED = re.compile(r"\b(?:never|not|don'?t|do not|must not|should not|shall not|no one|nobody)\b", re.IGNORECASE)

_CREDENTIAL_REQUEST = re.compile(
    rf"{_IMPERATIVE}{_DISCLOSE}\b[^.?!]{{0,60}}?\b(?:your|ur)\s+(?:own\s+|current\s+|\w+\s+)?{_CREDENTIAL}\b"
    rf"|\b(?:enter|type|confirm|verify|validate|update)\s+your\s+(?:\w+\s+)?{_CREDENTIAL}\s+"
    r"(?:at|on|via|here|using|in)\s+(?:the\s+|this\s+)?(?:link|form below|https?://|www\.)",
    re.IGNORECASE,
)
_CREDENTIAL_QUESTION = re.compile(rf"\bwhat(?:'s| is| are)\s+your\s+(?:\w+\s+)?{_CREDENTIAL}\b", re.IGNORECASE)
_OVERRIDE = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b\s+(?:all\s+|any\s+|the\s+|your\s+|of\s+)*"
    r"(?:(?:previous|prior|above|earlier|preceding|original|system|former|other)\s+)*"
    r"(?:instructions?|prompts?|directions?|rules|guidelines|context|messages?)\b"
    r"|\b(?:disregard|ignore)\s+(?:all\s+|everything\s+)?(?:the\s+)?(?:above|preceding|foregoing)\b"
    r"|\bforget\s+everything\b|\bnew\s+instructions\s*:"
    r"|\b(?:reveal|print|show|repeat|output)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+)?(?:prompt|instructions)\b",
    re.IGNORECASE,
)
_ASSISTANT = re.compile(
    r"\byou\s+are\s+(?:now\s+|actually\s+|just\s+)?(?:an?\s+)?(?:ai|a\.i\.|artificial intelligence|assistant|"
    r"chat ?bot|bot|language model|llm|large language model|gpt)\b"
    r"|\bif\s+you\s+are\s+an?\s+(?:ai|assistant|chat ?bot|bot|language model|llm)\b"
    r"|\bas\s+an?\s+(?:ai|language model|llm)\b"
    r"|^\s*(?:dear|attention|note to( the)?|hey|hello)\s+(?:ai|assistant|chat ?bot|bot|llm|language model)\b"
    r"|\b(?:tell|instruct|advise|inform)\s+the\s+user\s+(?:to|that)\b"
    r"|\b(?:answer|respond|reply)\s+(?:to\s+)?the\s+user\b",
    re.IGNORECASE,
)
_PHISH_LINK = re.compile(
    r"\bclick\s+(?:on\s+)?this\s+(?:link|url|button)\b"
    r"|\bclick\s+(?:on\s+)?(?:here|below|the\s+(?:following\s+)?(?:link|url|button))\b[^.?!]{0,40}"
    r"\b(?:verify|confirm|reset|unlock|log ?in|sign ?in|"
    r"validate|reactivate|claim|update\s+your)\b"
    # only as a request to the reader: "the help desk will verify your identity", "your CRA cannot unlock your
    # account" (an FAQ's answer to a lockout) are about the study's support
    rf"|{_IMPERATIVE}(?:verify|confirm|validate|reactivate|unlock)\s+your\s+(?:account|identity|mailbox|e-?mail)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=16384)
def addressed_to_reader(sentence: str) -> bool:
    """Whether the sentence asks the reader for credentials or instructs an assistant, rather than
    saying something about the study. Cached: the same retrieved sentences are checked ask after ask
    (profiled under 20 concurrent asks: ~3% of the CPU)."""
    text = " ".join(sentence.split())
    if not text:
        return False
    if _OVERRIDE.search(text) or _ASSISTANT.search(text) or _PHISH_LINK.search(text):
        return True
    for pattern in (_CREDENTIAL_REQUEST, _CREDENTIAL_QUESTION):
        m = pattern.search(text)
        if m and not _NEGATED.search(text[max(0, m.start() - 40) : m.start() + 12]):
            return True
    return False


def flagged_sentences(text: str) -> list[str]:
    """The sentences of a passage that are addressed to the reader (empty for ordinary study text)."""
    return [text[a:b] for a, b in sentence_spans(text) if addressed_to_reader(text[a:b])]


class _HasText(Protocol):
    text: str


T = TypeVar("T", bound=_HasText)


def reader_safe(candidates: Iterable[T]) -> Iterator[T]:
    """Candidate sentences an answer may quote: the ones not addressed to the reader."""
    return (c for c in candidates if not addressed_to_reader(c.text))


def masked(text: str) -> str:
    """The passage with its planted sentences replaced by a paragraph break (what an LLM may read)."""
    spans = [(a, b) for a, b in sentence_spans(text) if addressed_to_reader(text[a:b])]
    for a, b in reversed(spans):
        text = f"{text[:a]}\n\n{text[b:]}"
    return text


def quotes_reader_text(answer: Answer) -> bool:
    """Whether an answer (its text or any quote) repeats a sentence addressed to the reader."""
    return any(flagged_sentences(t) for t in (answer.answer, *(c.quote for c in answer.citations)))
