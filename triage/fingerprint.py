"""What a message says, stripped of how it was passed on: the text the dedupe compares.

A reminder, a resend or a forward wraps the same message in "Reminder:", "FW:", a
"Forwarding the sponsor's message below" line or a mail header block. `fingerprint` removes
those wrappers and pulls out the *keys* (numbers, dates, lot codes, weekdays, words that flip a
meaning such as "resumed") that must be identical for two messages to be the same topic: a
look-alike with a new lot or a new date is a new message, however similar its wording.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# "FW:", "Re:", "[EXTERNAL]", "Reminder:", "2nd reminder -", "Resending:", ... at the start.
_PREFIX = re.compile(
    r"^\s*(?:"
    r"(?:re|fw|fwd|tr|wg|aw|sv|vs|rv)\s*:"
    r"|\[[^\]]{0,30}\]"
    r"|(?:(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|final|last|friendly|gentle|kind|quick|urgent)\s+)*"
    r"reminder\s*(?:#?\d+)?\s*(?:[:\-–—!]|$)"
    r"|re-?send(?:ing)?\s*[:\-–—]|re-?sent\s*[:\-–—]|repost(?:ed|ing)?\s*[:\-–—]"
    r"|rappel\s*[:\-–—]|follow[- ]?up\s*[:\-–—]|(?:first|second|third|final|last)\s+notice\s*[:\-–—]"
    r"|(?:forwarded|forwarding)\s*[:\-–—]"
    r")\s*",
    re.IGNORECASE,
)
# Mail header lines and separators a forward carries along.
_HEADER_LINE = re.compile(
    r"^\s*(?:(?:from|sent|date|to|cc|bcc|subject|objet|de|envoy[ée]|à)\s*:.*"
    r"|-{2,}.*(?:forwarded|original).*"
    r"|begin forwarded message:?"
    r"|on .{0,120} wrote:"
    r"|>+)\s*$",
    re.IGNORECASE,
)
# A sentence that only says the message is being passed on again.
_INTRO = re.compile(
    r"\b(?:forward(?:ed|ing)?|fwd|resend(?:ing)?|re-?sen(?:t|ding)|remind(?:er|ing)?|still (?:open|pending|outstanding)"
    r"|in case you missed|missed (?:it|this)|bump(?:ing)?|following up|follow(?:ing)?[- ]up|see below|below"
    r"|pass(?:ing)? (?:\w+ )?(?:on|along)|sharing|(?:message|note|e-?mail|request) (?:from|by) the (?:study )?sponsor"
    r"|sponsor'?s (?:message|note|e-?mail|request)|as (?:sent|announced) (?:earlier|before|previously)"
    r"|once more|once again"
    r"|for your (?:information|attention|reference)|fyi|on behalf of|relaying|re-?circulat\w*|copying)\b",
    re.IGNORECASE,
)
_SIGNOFF = re.compile(
    r"^\s*(?:(?:best|kind|warm|many)\s+)?(?:regards|thanks|thank you|cheers|sincerely|best)\b[\s\S]{0,80}$",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/.:°]*[A-Za-z0-9°]|[A-Za-z0-9]")
_MONTHS = {
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}  # fmt: skip
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_NUMBER_WORDS = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty",
    "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "first", "second", "third",
    "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "half", "double", "twice", "once",
}  # fmt: skip
_WORD_KEYS = _MONTHS | _WEEKDAYS | _NUMBER_WORDS
_MAX_INTRO_WORDS = 18
_ORDINAL = re.compile(r"^\(?#?\d{1,2}(?:st|nd|rd|th)?[).,:!]*$", re.IGNORECASE)  # "2nd reminder", "(#3)"


# Words whose presence or absence does not change what a message asks: function words, greetings,
# sign-offs and the vocabulary of passing a message on. Every other word must be in both texts.
IGNORABLE = frozenset({
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "from", "at", "by", "with", "as", "is", "are",
    "be", "been", "was", "were", "will", "this", "that", "these", "those", "it", "its", "we", "our", "us", "you",
    "your", "please", "kindly", "dear", "hi", "hello", "all", "team", "colleagues", "site", "sites", "regards",
    "best", "kind", "thanks", "thank", "cheers", "reminder", "friendly", "gentle", "just", "fw", "fwd", "re", "tr",
    "resend", "resending", "forwarded", "forwarding", "below", "above", "message", "note", "fyi", "sponsor", "cro",
    "sharing", "behalf", "following", "up", "again", "original", "email", "mail", "forward", "sponsor's", "cro's",
})  # fmt: skip


@dataclass(frozen=True)
class Fingerprint:
    """The comparable core of a message and the keys that must match exactly."""

    core: str
    keys: frozenset[str]

    @property
    def words(self) -> frozenset[str]:
        return content_words(self.core)


def content_words(core: str) -> frozenset[str]:
    """The words that carry meaning (lower-case), for the "no new word" test of a repeat."""
    return frozenset(w for w in _WORD.findall(core.lower()) if w not in IGNORABLE)


def strip_prefixes(subject: str) -> str:
    """The subject without any chain of FW:/Re:/Reminder:/[tag] prefixes."""
    previous = None
    text = subject.strip()
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text, count=1).strip()
    return text


def _keys_of(text: str, state_words: frozenset[str]) -> set[str]:
    keys: set[str] = set()
    tokens = [t.lower().rstrip(".:") for t in _TOKEN.findall(text)]
    for i, tok in enumerate(tokens):
        if any(c.isdigit() for c in tok) or tok in _WORD_KEYS or tok in state_words:
            keys.add(tok)
        elif tok == "may" and any(
            j < len(tokens) and any(c.isdigit() for c in tokens[j]) for j in (i - 1, i + 1) if j >= 0
        ):
            keys.add(tok)  # the month, not the verb
    return keys


def _body_core(body: str) -> str:
    lines = [ln for ln in body.splitlines() if not _HEADER_LINE.match(ln)]
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", "\n".join(lines)) if p.strip()]
    while len(paragraphs) > 1 and _SIGNOFF.match(paragraphs[-1]):
        paragraphs.pop()
    sentences = [s for p in paragraphs for s in _SENTENCE.split(p) if s.strip()]
    if sentences:
        sentences[0] = strip_prefixes(sentences[0]) or sentences[0]
    while len(sentences) > 1 and _is_intro(sentences[0]):
        sentences.pop(0)
    return " ".join(sentences)


def _is_intro(sentence: str) -> bool:
    words = sentence.split()
    return (
        len(words) <= _MAX_INTRO_WORDS
        and bool(_INTRO.search(sentence))
        and not any(any(c.isdigit() for c in w) and not _ORDINAL.match(w) for w in words)
    )


def fingerprint(subject: str, body: str, state_words: Iterable[str] = ()) -> Fingerprint:
    """Normalise a message for comparison: wrappers removed, keys extracted from what remains."""
    core = f"{strip_prefixes(subject)}\n{_body_core(body)}".strip()
    return Fingerprint(core=core, keys=frozenset(_keys_of(core, frozenset(w.lower() for w in state_words))))
