"""Person names the way site staff write them in chat, on top of philter-lite's name lists.

philter-lite finds names one token at a time from census lists; chat adds shapes it was not tuned
for: lower-case names after "pt", surnames missing from the lists ("pt bjorn lindqvist"), names after
a relationship or role cue ("her husband Patrick O'Neill", "caller was Omar Haddad"). This module
(1) finds names after such cues and (2) grows any name finding over the neighbouring tokens that are
clearly part of the same name, so "Jean-Pierre Dufour" or "Smith, John" become one [NAME].
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from privacy.redaction import Finding

TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof)\.?"
_CUES = (
    rf"(?i:\b{TITLES})|(?i:\b(?:pt|patient|participant|caller(?:\s+was)?|caregiver|name(?:\s+is|:)|"
    r"husband|wife|son|daughter|mother|father|mom|dad|brother|sister|spouse|partner|"
    r"for|to|from|attn:?|with|called|calling|reached|visited|saw|is|was))"
)
_CUE = re.compile(rf"(?:{_CUES})[\s:,]+")
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+(?:['’-][A-Za-zÀ-ÖØ-öø-ÿ]+)*")
_TITLE_ONLY = re.compile(rf"(?i)^{TITLES}$")
_TITLED = re.compile(rf"(?i:{TITLES})[\s:,]")
_TITLE_WORDS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof"})
# only these cues license a lower-case or unlisted word: the others ("for", "with") need a capital
_STRONG = re.compile(rf"^(?:(?i:{TITLES})|(?i:pt|patient|participant|caller|caregiver|name))")
# chat abbreviations that follow a name but are not part of it ("pt john smith mrn ...")
STOP = frozenset(
    {"mrn", "dob", "ssn", "ss", "pt", "pts", "yo", "yof", "yom", "phone", "cell", "tel", "fax", "email", "mr", "mrs"}
    | {"ms", "dr", "md", "np", "rn", "pa", "crc", "cra", "pi", "subj", "subject", "participant", "id", "no", "re"}
    | {"cc", "fyi", "asap", "tbd"}
)


class NameFinder:
    """Cue-based names and name growth; `common` is philter-lite's list of ordinary words."""

    def __init__(self, common: frozenset[str], given: frozenset[str], family: frozenset[str]) -> None:
        self._common = common
        self._listed = given | family

    def after_cues(self, text: str, safe: list[tuple[int, int]]) -> Iterator[Finding]:
        """Up to three name-like words right after a cue ("pt", "Mrs.", "her husband", "caller was")."""
        for cue in _CUE.finditer(text):
            strong = bool(_STRONG.match(cue.group(0)))
            titled = bool(_TITLED.match(cue.group(0)))
            pos, span = cue.end(), None
            for _ in range(3):
                word = _WORD.match(text, pos)
                if not word or _covered(word.start(), word.end(), safe):
                    break
                # after "Mr."/"Dr." any capitalised word is a surname ("Mr. Ng"), whatever the lists say
                if not (titled and _is_title(word.group()) and _bare(word.group()) not in STOP) and not self._namelike(
                    word.group(), strong
                ):
                    break
                span = (span[0] if span else word.start(), word.end())
                pos = word.end()
                while pos < len(text) and text[pos] == " ":
                    pos += 1
            if span:
                yield Finding("NAME", *_strip_possessive(text, *span))

    def grow(self, text: str, names: Iterable[Finding], safe: list[tuple[int, int]]) -> list[Finding]:
        """Extend each name over adjacent words that belong to it, and join "Smith, John"."""
        grown = []
        for f in names:
            start, end = f.start, f.end
            lower = text[start:end].islower()
            while (nxt := _next_word(text, end)) and self._continues(text, *nxt, lower, safe):
                end = nxt[1]
            while (prev := _prev_word(text, start)) and self._continues(text, *prev, lower, safe):
                start = prev[0]
            grown.append(Finding("NAME", *_strip_possessive(text, start, end)))
        return grown

    def trim(self, text: str, f: Finding) -> Finding | None:
        """Shave label words and titles off a name's edges ("Mrs. Alvarez", "Cohen, MRN"); None if nothing is left."""
        words = [w for w in _WORD.finditer(text, f.start, f.end)]
        while words and self._edge_noise(words[0].group()):
            words.pop(0)
        while words and self._edge_noise(words[-1].group()):
            words.pop()
        if not words:
            return None
        end = words[-1].end()
        if text[end : end + 1] == "." and end >= 2 and text[end - 2] == ".":
            end += 1  # initials keep their last dot: "M.R."
        return Finding(f.kind, *_strip_possessive(text, words[0].start(), end))

    def _edge_noise(self, word: str) -> bool:
        base = _bare(word)
        if base in STOP or base in _TITLE_WORDS:
            return True
        # "pt in", "Patient Reported Outcome": ordinary words no name list knows (short ones may be
        # initials or surnames like "Ng")
        return base in self._common and (word.islower() or (len(base) > 3 and base not in self._listed))

    def _continues(self, text: str, start: int, end: int, lower: bool, safe: list[tuple[int, int]]) -> bool:
        word = text[start:end]
        if _covered(start, end, safe) or _TITLE_ONLY.match(word) or not any(c.isalpha() for c in word):
            return False
        base = _bare(word)
        if base in STOP:
            return False
        if lower:
            return word.islower() and base not in self._common
        # "Li Na Wu", "Mark Brown": a listed name continues a name even when it is also a common word
        return _is_title(word) and (base not in self._common or base in self._listed)

    def _namelike(self, word: str, strong: bool) -> bool:
        base = _bare(word)
        if base in STOP or len(base) < 2:
            return False
        if _is_title(word):
            if strong:
                return base in self._listed or base not in self._common
            return base in self._listed and base not in self._common
        return strong and word.islower() and base not in self._common


def _is_title(word: str) -> bool:
    """Capitalised like a name: "Smith", "O'Neill", "McCarthy", "Jean-Pierre"; not "SMITH" or "smith"."""
    if not word[:1].isupper():
        return False
    rest = word[2:] if word[1:2] in "'’" else word[1:]
    return any(c.islower() for c in rest) and not rest[:1].isupper()


def _bare(word: str) -> str:
    return re.sub(r"['’]s$", "", word).lower()


def _covered(start: int, end: int, safe: list[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in safe)


def _next_word(text: str, end: int) -> tuple[int, int] | None:
    m = re.compile(r"(?:\s|,\s|-)").match(text, end)
    if not m or (m.group(0) == "-" and end > 0 and not text[end - 1].isalpha()):
        return None
    w = _WORD.match(text, m.end())
    return w.span() if w else None


def _prev_word(text: str, start: int) -> tuple[int, int] | None:
    head = text[:start]
    m = re.search(r"([A-Za-zÀ-ÖØ-öø-ÿ'’-]+)(?:\s|,\s|-)$", head)
    return m.span(1) if m else None


def _strip_possessive(text: str, start: int, end: int) -> tuple[int, int]:
    for suffix in ("'s", "’s", "'", "’"):
        if text[start:end].endswith(suffix):
            return start, end - len(suffix)
    return start, end
