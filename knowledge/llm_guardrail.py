"""The citation guardrail: an LLM reply is shown as grounded only if every claim checks out.

The model is untrusted (it may be weak, confused, or steered by text planted in a document), so
this module trusts nothing it says: it parses the reply strictly and verifies each claim against
the retrieved passages. Anything that does not check out raises `Rejected` with a reason, and the
caller falls back to the extractive answer; nothing unverified is ever labelled as cited.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from knowledge.types import Answer, Citation, Passage

MIN_QUOTE_CHARS = 8  # "24 hours" is the shortest useful evidence; "the" proves nothing
MIN_QUOTE_WORDS = 2
MAX_ANSWER_CHARS = 2000
MIN_WORD_SUPPORT = 0.6  # share of the answer's content words that must occur in the cited passages

_NOT_FOUND = re.compile(r"not found( in the (study )?documents?)?\.?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_]{4,}")
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        """that this these those with within from have been will would should could must what when where which
        while about after before their there they them then than into onto over under only also each every
        such does done were your yours ours very more most some other same both either neither""",
    )
)
# Text addressed to an AI rather than to site staff. A passage containing it cannot be cited: the
# model read it, so an answer built on that passage may be following it.
_INSTRUCTION_LIKE = re.compile(
    r"ignore\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|preceding)\s+(instructions|rules|prompts?)"
    r"|disregard\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|earlier|preceding)\s+(instructions|rules)"
    r"|(system|developer)\s+prompt"
    r"|cite\s+nothing|do\s+not\s+cite|without\s+(any\s+)?citations?"
    r"|you\s+are\s+now\s+(an?\s+)?(ai|assistant|chatbot|language\s+model|in\s+\w+\s+mode)\b"
    r"|\b(assistants?|chatbots?|language\s+models?|llms?|ai)\b[\s,:]+(must|should|will|shall)\s+"
    r"(now\s+)?(say|answer|reply|respond|state|tell)",
    re.IGNORECASE,
)
_QUOTE_TRIM = " \t\r\n\"'“”‘’«»`.,;:…"
_CHAR_FOLD = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "‐": "-"})


class Rejected(Exception):
    """The reply cannot be shown as grounded; `str(exc)` says why (for logs and measurements)."""


@dataclass(frozen=True)
class Claim:
    text: str
    passage: int  # 1-based, as numbered in the prompt
    quote: str


@dataclass(frozen=True)
class Draft:
    """What the model said, parsed but not yet trusted."""

    answer: str
    claims: list[Claim]


def parse_reply(reply: str) -> Draft:
    """The first JSON object of the reply in the prompt's shape; `Rejected` on anything else."""
    obj = _first_answer_object(reply)
    if obj is None:
        raise Rejected("reply holds no valid JSON object with an answer (not JSON, malformed or cut off)")
    answer = obj["answer"]
    if not isinstance(answer, str) or not answer.strip():
        raise Rejected("reply has no answer text")
    raw_claims = obj.get("claims", [])
    if not isinstance(raw_claims, list):
        raise Rejected("claims is not a list")
    claims = [_parse_claim(item, i) for i, item in enumerate(raw_claims, start=1)]
    return Draft(answer=" ".join(answer.split()), claims=claims)


def verify(draft: Draft, passages: list[Passage]) -> Answer:
    """The grounded (or abstaining) Answer the draft supports; `Rejected` when any check fails."""
    if not draft.claims:
        if _NOT_FOUND.fullmatch(_fold(draft.answer)):
            answer = Answer.abstain(mode="llm")
            answer.notes.append("the language model found no answer in the retrieved passages")
            return answer
        raise Rejected("answer cites nothing")
    if _NOT_FOUND.fullmatch(_fold(draft.answer)):
        raise Rejected("answer says not found but cites passages")
    if len(draft.answer) > MAX_ANSWER_CHARS:
        raise Rejected(f"answer longer than {MAX_ANSWER_CHARS} characters")

    citations: list[Citation] = []
    quote_numbers: set[str] = set()
    cited: list[Passage] = []
    for i, claim in enumerate(draft.claims, start=1):
        if not 1 <= claim.passage <= len(passages):
            raise Rejected(f"claim {i} cites passage {claim.passage}, but only 1..{len(passages)} were given")
        passage = passages[claim.passage - 1]
        if _INSTRUCTION_LIKE.search(passage.text):
            raise Rejected(f"claim {i} cites passage {claim.passage}, which contains instructions aimed at an AI")
        span = find_verbatim(claim.quote, passage.text)
        if span is None:
            raise Rejected(f"claim {i}: quote does not occur in passage {claim.passage}")
        missing = _numbers(claim.text) - _numbers(span)
        if missing:
            raise Rejected(f"claim {i}: numbers {sorted(missing)} are not in its quote")
        if _word_support(claim.text, [passage]) < MIN_WORD_SUPPORT:
            raise Rejected(f"claim {i}: its wording is not supported by passage {claim.passage}")
        quote_numbers |= _numbers(span)
        cited.append(passage)
        if not any(c.chunk_id == passage.chunk_id and c.quote == span for c in citations):
            citations.append(_citation(passage, span))

    missing = _numbers(draft.answer) - quote_numbers
    if missing:
        raise Rejected(f"answer contains numbers {sorted(missing)} found in none of the cited quotes")
    if _word_support(draft.answer, cited) < MIN_WORD_SUPPORT:
        raise Rejected("answer wording is not supported by the cited passages")
    return Answer(answer=draft.answer, abstained=False, citations=citations, mode="llm")


def find_verbatim(quote: str, text: str) -> str | None:
    """The span of `text` that `quote` reproduces, compared after folding whitespace, case and typographic
    quotes/dashes; returned as the document's own characters (whitespace collapsed), or None."""
    needle = _fold(quote.strip(_QUOTE_TRIM))
    if len(needle) < MIN_QUOTE_CHARS or len(needle.split()) < MIN_QUOTE_WORDS:
        return None
    folded, origin = _fold_with_map(text)
    at = folded.find(needle)
    if at < 0:
        return None
    start, end = origin[at], origin[at + len(needle) - 1] + 1
    return " ".join(text[start:end].split())


def _parse_claim(item: object, i: int) -> Claim:
    if not isinstance(item, dict):
        raise Rejected(f"claim {i} is not an object")
    text, quote, passage = item.get("text"), item.get("quote"), item.get("passage")
    if not isinstance(text, str) or not text.strip():
        raise Rejected(f"claim {i} has no text")
    if not isinstance(quote, str) or not quote.strip():
        raise Rejected(f"claim {i} has no quote")
    if isinstance(passage, str) and passage.strip().isdigit():
        passage = int(passage.strip())
    if isinstance(passage, bool) or not isinstance(passage, int):
        raise Rejected(f"claim {i} has no passage number")
    return Claim(text=" ".join(text.split()), passage=passage, quote=quote)


def _first_answer_object(reply: str) -> dict[str, object] | None:
    """The first JSON object in the reply that has an "answer" key (models wrap JSON in prose or fences)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", reply):
        try:
            obj, _ = decoder.raw_decode(reply, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict) and "answer" in obj:
            return obj
    return None


def _citation(passage: Passage, quote: str) -> Citation:
    return Citation(
        doc=passage.doc,
        title=passage.title,
        version=passage.version,
        section=passage.section,
        page=passage.page,
        quote=quote,
        score=passage.score,
        chunk_id=passage.chunk_id,
    )


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """`text` folded like `_fold`, with the index in `text` each folded character came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(i)
            continue
        for folded in unicodedata.normalize("NFKC", ch).translate(_CHAR_FOLD).casefold():
            out.append(folded)
            origin.append(i)
    while out and out[-1] == " ":
        out.pop()
        origin.pop()
    return "".join(out), origin


def _fold(text: str) -> str:
    return _fold_with_map(text)[0]


def _numbers(text: str) -> set[str]:
    """Numbers as written, minus thousands separators and leading zeros ("1,000" = "1000", "05" = "5")."""
    return {n.replace(",", "").lstrip("0") or "0" for n in _NUMBER.findall(text)}


def _content_words(text: str) -> set[str]:
    """Content words cut to a 5-letter stem, so "reported" in an answer matches "report" in a passage."""
    return {w[:5] for w in _WORD.findall(_fold(text)) if w not in _STOPWORDS}


def _word_support(text: str, passages: list[Passage]) -> float:
    words = _content_words(text)
    if not words:
        return 1.0
    source: set[str] = set()
    for p in passages:
        source |= _content_words(f"{p.title} {p.section} {p.text}")
    return len(words & source) / len(words)
