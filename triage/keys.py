"""The distinguishing tokens of a message: what makes a look-alike a different message.

Two messages about "lot KB-24-0917" and "lot KB-25-0112", "Amendment 3" and "Amendment 4", "due
10 April" and "due 17 April", "case MAR-0217" and "case MAR-0223", or the March and the April
newsletter read alike but are different news. Keys are written in one canonical form whatever the
wording: dates as `d:MM-DD` ("10 April 2026", "April 10", "2026-04-10", "Friday 10 April" are one
key), a month alone as `m:MM`, clock times as `t:HH:MM`, numbers as `n:…` ("30-minute" and
"30 min" agree, "v4.0" and "version 4.0" too), codes with letters and digits as they are
("kb-24-0917"), and meaning-flipping words as `flip:…` ("resumed", "lifted", "cancelled").
Weekdays, number words, list numbering and ordinals ("2nd reminder") are not keys: rewordings
change them freely.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1, "feb": 2, "mar": 3, "apr": 4,
    "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = r"(?P<mon>january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"  # noqa: E501
_MONTH2 = _MONTH.replace("?P<mon>", "?P<mon2>")
_DASH = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "’": "'"})
_DATES = [
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    # "10 April 2026", "10th of April", "18-19 June" (the second day)
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH}(?:,?\s+(?P<y>\d{{4}}))?\b", re.IGNORECASE),
    # "April 10", "April 10th, 2026"
    re.compile(rf"\b{_MONTH2}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?!:)(?:,?\s+(?P<y>\d{{4}}))?", re.IGNORECASE),
]
_TIME = re.compile(r"\b(?P<h>[01]?\d|2[0-3])[:.h](?P<m>[0-5]\d)\b(?:\s*(?P<ap>am|pm))?", re.IGNORECASE)
_MONTH_ALONE = re.compile(  # "March 2026" (the year goes with it, as in a date), "March issue"
    rf"\b{_MONTH}(?:\s+\d{{4}}\b|(?=\s+(?:issue|newsletter|edition|update|report)\b))", re.IGNORECASE
)
_MONTH_WORD = re.compile(
    r"\b(?P<mon>january|february|march|april|june|july|august|september|october|november|december)\b", re.IGNORECASE
)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/.&]*[A-Za-z0-9]|[A-Za-z0-9]")
_LIST_NUMBER = re.compile(r"^\s*\(?\d{1,2}[.)]\s", re.MULTILINE)
_ORDINAL = re.compile(r"^\d{1,2}(?:st|nd|rd|th)$")
_UNIT_SUFFIX = re.compile(r"^(\d+(?:\.\d+)?)-?(?:[a-z]{1,12})$")  # 30-minute, 24h, 15min, 5mg -> the number
_VERSION = re.compile(r"^v(?:er(?:sion)?)?\.?(\d+(?:\.\d+)*)$")
_STOP_IDS = {"covid-19", "sars-cov-2"}
# A reminder's countdown ("only 2 days left", "1 week to go") and a reply's "+1" are not facts.
_NOT_FACTS = re.compile(
    r"\b(?:only\s+)?(?:\d+|one|two|three|four|five|six|seven)\s+(?:more\s+)?(?:days?|weeks?|hours?)\s+"
    r"(?:left|to go|remaining)\b|(?<![\w+])\+1(?=\s+[a-z])",
    re.IGNORECASE,
)


def _day_key(month: int, day: int) -> str | None:
    return f"d:{month:02d}-{day:02d}" if 1 <= month <= 12 and 1 <= day <= 31 else None


def keys_of(text: str, flip_words: Iterable[str] = (), ignore: Iterable[str] = ()) -> frozenset[str]:
    """The canonical keys of `text`; tokens in `ignore` (e.g. the study id) are not keys."""
    text = _NOT_FACTS.sub(" ", _LIST_NUMBER.sub(" ", text.translate(_DASH)))
    skip = {t.lower() for t in ignore}
    keys: set[str] = set()
    spans: list[tuple[int, int]] = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in spans):
                continue
            month = int(m.group("m")) if "m" in m.groupdict() and m.group("m") else None
            if month is None:
                name = (m.groupdict().get("mon") or m.groupdict().get("mon2") or "").lower().rstrip(".")
                month = MONTHS.get(name)
            key = _day_key(month or 0, int(m.group("d")))
            if key:
                keys.add(key)
                spans.append(m.span())
    for m in _TIME.finditer(text):
        if any(a < m.end() and m.start() < b for a, b in spans):
            continue
        h = int(m.group("h")) + (12 if (m.group("ap") or "").lower() == "pm" and int(m.group("h")) < 12 else 0)
        keys.add(f"t:{h:02d}:{m.group('m')}")
        spans.append(m.span())
    for pattern in (_MONTH_ALONE, _MONTH_WORD):
        for m in pattern.finditer(text):
            if not any(a < m.end() and m.start() < b for a, b in spans):
                keys.add(f"m:{MONTHS[m.group('mon').lower().rstrip('.')]:02d}")
                spans.append(m.span())
    rest = list(text)
    for a, b in spans:
        rest[a:b] = " " * (b - a)
    flips = {w.lower() for w in flip_words}
    for raw in _TOKEN.findall("".join(rest)):
        tok = raw.lower().strip("./-&")
        if not tok or tok in skip or tok in _STOP_IDS:
            continue
        if tok in flips:
            keys.add(f"flip:{tok}")
            continue
        if not any(c.isdigit() for c in tok) or _ORDINAL.match(tok):
            continue
        version = _VERSION.match(tok)
        unit = _UNIT_SUFFIX.match(tok)
        if version:
            keys.add(f"n:{version.group(1)}")
        elif tok.replace(".", "").replace(",", "").isdigit():
            keys.add(f"n:{tok.replace(',', '')}")
        elif unit:
            keys.add(f"n:{unit.group(1)}")
        elif re.fullmatch(r"\d+(?:[-/]\d+)+", tok):  # a range "2-8" or "115-4402": each number
            keys.update(f"n:{p}" for p in re.split(r"[-/]", tok))
        else:
            keys.add(tok)
    return frozenset(keys)
