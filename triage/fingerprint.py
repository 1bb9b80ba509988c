"""What a message says, stripped of how it was passed on: the text and keys the dedupe compares.

`fingerprint` takes the original out of a forward (triage.wrappers), drops greeting, sign-off,
subject prefixes, the study id and short "passing this on" sentences, and keeps:

- `core`: the subject and body that remain (what rapidfuzz compares, and the stemmed content
  words of `content_words`);
- `keys` (triage.keys): dates, numbers, codes and meaning-flipping words of the core, plus those
  of a forward's note, so a note that adds a new date or says "lifted" is never a mere repeat.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.text import stem
from triage.keys import keys_of
from triage.wrappers import is_relay, split_forward, strip_letter, strip_prefixes

__all__ = ["Fingerprint", "content_words", "fingerprint", "strip_prefixes"]

# A sentence that only says the message is being passed on again.
_INTRO = re.compile(
    r"\b(?:forward(?:ed|ing)?|fwd|resend(?:ing)?|re-?sen(?:t|ding)|remind(?:er|ing)?|still (?:open|pending|outstanding)"
    r"|in case you missed|missed (?:it|this)|bump(?:ing)?|nudge|following up|follow(?:ing)?[- ]up|see below|below"
    r"|pass(?:ing)? (?:\w+ )?(?:on|along)|sharing|(?:message|note|e-?mail|request) (?:from|by) the (?:study )?sponsor"
    r"|sponsor'?s (?:message|note|e-?mail|request)|as (?:sent|announced) (?:earlier|before|previously)"
    r"|once more|once again|heads[- ]up|apologies|sorry"
    r"|for your (?:information|attention|reference)|fyi|on behalf of|relaying|re-?circulat\w*|copying)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_MAX_INTRO_WORDS = 18
_ORDINAL = re.compile(r"^\(?#?\d{1,2}(?:st|nd|rd|th)?[).,:!]*$", re.IGNORECASE)  # "2nd reminder", "(#3)"
_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?")

# Words that carry no content of their own: function words, greetings, sign-offs and the
# vocabulary of passing a message on. Everything else is a content word.
IGNORABLE = frozenset({
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "for", "from", "at", "by", "with", "as", "is",
    "are", "be", "been", "being", "was", "were", "will", "would", "shall", "should", "can", "could", "may", "might",
    "must", "do", "does", "did", "has", "have", "had", "this", "that", "these", "those", "it", "its", "we", "our",
    "us", "you", "your", "yours", "they", "their", "them", "he", "she", "his", "her", "i", "me", "my", "please",
    "kindly", "dear", "hi", "hello", "all", "team", "colleagues", "site", "sites", "regards", "best", "kind",
    "thanks", "thank", "cheers", "reminder", "friendly", "gentle", "just", "fw", "fwd", "re", "tr", "resend",
    "resending", "forwarded", "forwarding", "below", "above", "message", "note", "fyi", "sponsor", "cro", "sharing",
    "behalf", "following", "up", "again", "original", "email", "mail", "forward", "sponsor's", "cro's", "so",
    "if", "then", "than", "there", "here", "which", "who", "whom", "what", "when", "where", "how", "any", "each",
    "every", "some", "such", "also", "only", "very", "into", "about", "after", "before", "until", "while", "per",
    "via", "still", "now", "yet", "s", "t", "etc", "e", "g", "ie", "eg", "let", "know", "make", "sure", "ensure",
    "noted", "notice", "see", "find", "attached", "hereby", "inform", "informed", "informing", "aware",
    "urgent", "important", "asap", "action", "required", "needed", "update", "updated", "info", "information",
})  # fmt: skip


@dataclass(frozen=True)
class Fingerprint:
    """The comparable core of a message and the keys that must agree."""

    core: str
    keys: frozenset[str]
    relay: bool = False  # the message says it passes something on (see triage.wrappers.is_relay)

    @property
    def words(self) -> frozenset[str]:
        return content_words(self.core)


def content_words(core: str) -> frozenset[str]:
    """The stemmed words that carry meaning, for comparing two messages' content."""
    words = _WORD.findall(core.lower().replace("-", " ").replace("/", " "))
    return frozenset(stem(w) for w in words if w not in IGNORABLE and len(w) > 1)


def _without(text: str, ignore: Iterable[str]) -> str:
    for token in ignore:
        if token:
            text = re.sub(rf"(?<![\w-]){re.escape(token)}(?![\w-])", " ", text, flags=re.IGNORECASE)
    return text


def _is_intro(sentence: str) -> bool:
    words = sentence.split()
    return (
        len(words) <= _MAX_INTRO_WORDS
        and bool(_INTRO.search(sentence))
        and not any(any(c.isdigit() for c in w) and not _ORDINAL.match(w) for w in words)
    )


def _body_core(text: str) -> str:
    text = strip_letter(text)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    sentences = [s for p in paragraphs for s in _SENTENCE.split(p) if s.strip()]
    if sentences:
        sentences[0] = strip_prefixes(sentences[0]) or sentences[0]
    while len(sentences) > 1 and _is_intro(sentences[0]):
        sentences.pop(0)
    return " ".join(" ".join(sentences).split())


def fingerprint(subject: str, body: str, state_words: Iterable[str] = (), study: str = "") -> Fingerprint:
    """Normalise a message for comparison: wrappers removed, keys taken from what remains."""
    ignore = [study] if study else []
    forward = split_forward(body)
    carried = forward.original or forward.note
    subject_core = " ".join(_without(strip_prefixes(subject), ignore).strip(" -–—:|").split())
    core = f"{subject_core}\n{_body_core(_without(carried, ignore))}".strip()
    flips = frozenset(w.lower() for w in state_words)
    keys = keys_of(core, flips, ignore)
    if forward.original:
        keys |= keys_of(strip_letter(forward.note), flips, ignore)
    return Fingerprint(core=core, keys=keys, relay=is_relay(subject, body))
