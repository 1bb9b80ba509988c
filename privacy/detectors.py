"""Targeted detectors for the identifiers staff paste most, layered on top of philter-lite.

philter-lite was tuned on i2b2 discharge summaries; in chat it misses labelled record numbers with
spaces or dashes ("MRN 5531 2087"), space-separated SSNs, ages written "92 y/o", and it types every
number alike. These patterns are precise because they need a label ("MRN", "DOB", "SSN", "member
number") or a format that is unambiguous (an email, a NANP phone number, an IPv4 address).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from privacy.redaction import Finding

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|Jun(?:e)?|Jul(?:y)?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# 3/14/61, 04-22-1958, 1963-09-30, 14-Mar-1961, 7 March 1952, March 3, 1966, Mar 3 1966
DATE = (
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}-{_MONTH}-\d{{2,4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{2,4}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}})"
)
# numeric or month-name day+month with no year: "4/2", "started 4/2", "on March 3"
SHORT_DATE = rf"(?:(?<![\d.])\d{{1,2}}/\d{{1,2}}(?![\d/])|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?!\s*,?\s*\d))"

_LABEL_TAIL = r"\s*(?:#|no\.?|number|num)?\s*(?:is|was|of|:|=|-|#)?\s*"

# (kind, pattern, group holding the identifier)
_RULES: list[tuple[str, re.Pattern[str], int]] = [
    ("EMAIL", re.compile(r"\b[\w.%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), 0),
    ("URL", re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]", re.I), 0),
    ("IP", re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])"), 0),
    (
        "SSN",
        re.compile(
            rf"(?i:\b(?:SSN|SS#|social(?:\s+security)?(?:\s+(?:number|no\.?|#))?){_LABEL_TAIL})"
            r"(\d{3}[- ]?\d{2}[- ]?\d{4})\b"
        ),
        1,
    ),
    (
        "SSN",
        re.compile(
            r"(?i:\b(?:SSN|social)\b[^.\n]{0,20}?\b(?:ends?\s+(?:in|with)|last\s+(?:4|four)(?:\s+digits)?(?:\s+(?:is|are|of))?)\s*:?\s*)(\d{4})\b"
        ),
        1,
    ),
    ("SSN", re.compile(r"(?<![\d-])((?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4})(?![\d-])"), 1),
    (
        "MRN",
        re.compile(
            rf"(?i:\b(?:MRN|MR#|MR\s*no\.?|medical\s+record(?:\s+number)?|hospital\s+number|chart){_LABEL_TAIL})"
            r"([A-Z]{0,3}\d(?:[\d]|[ -](?=\d)){4,14})",
        ),
        1,
    ),
    (
        "ID",
        re.compile(
            r"(?i:\b(?:medicaid|medicare|member|beneficiary|insurance|policy|health\s+plan|subscriber|"
            r"driver'?s\s+licen[cs]e|licen[cs]e|passport|account|acct|certificate|serial)"
            rf"(?:\s+(?:id|number|no\.?|#))?{_LABEL_TAIL})"
            r"((?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,})",
        ),
        1,
    ),
    (
        "DOB",
        re.compile(rf"(?i:\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?){_LABEL_TAIL})({DATE})"),
        1,
    ),
    (
        "PHONE",
        re.compile(
            r"(?<![\w-])((?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4})(?![\w-])"
            r"|(?i:\b(?:phone|tel|cell|mobile|fax|callback|call)\s*(?:#|no\.?|number)?\s*:?\s*)(\d{10})\b"
            r"|(?<![\w+])(\+(?:[2-9]\d{0,2})[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4})(?![\w-])"
        ),
        0,
    ),
    # initials are derived from the name ("initials M.R.", "pt initials ABC")
    ("NAME", re.compile(r"(?i:\binitials?\s*(?:are|is|:|=|-)?\s*)((?:[A-Z]\.?\s?){2,3})(?![a-z])"), 1),
    (
        "AGE",
        re.compile(
            r"\b(9\d|1[0-4]\d)(?=\s*(?:yo\b|y/o|y\.o\.|-?years?[\s-]old|-?yrs?[\s-]old|[MF]\b))"
            r"|(?i:\b(?:age[d:]?|is)\s+)(9\d|1[0-4]\d)(?=\s*(?:and\b|,|\.|;|$|years|yo\b|y/o))"
        ),
        0,
    ),
    (
        "ADDRESS",
        re.compile(
            r"\b\d{1,6}\s+(?:[A-Z][a-z]+\.?\s+){1,4}"
            r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Place|Pl|Way|Terrace|Ter|"
            r"Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq)\b\.?"
            r"(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|#)\.?\s*[\w-]+)?"
            r"(?:,?\s*(?:[A-Z][a-z]+\s?){1,3},?\s*[A-Z]{2}\.?(?:\s+\d{5}(?:-\d{4})?)?)?"
            r"|\bP\.?\s?O\.?\s+Box\s+\d+"
            r"|\b(?:[A-Z][a-z]+\s){0,2}[A-Z][a-z]+,?\s[A-Z]{2}\s+\d{5}(?:-\d{4})?\b"
        ),
        0,
    ),
]


def detect(text: str) -> Iterator[Finding]:
    """Every targeted finding in text; overlaps are resolved by the guard."""
    for kind, rx, group in _RULES:
        for m in rx.finditer(text):
            g = group or _first_group(m)
            start, end = m.span(g)
            if end > start:
                yield Finding(kind, start, end)


def short_dates(text: str) -> Iterator[Finding]:
    """Day-and-month dates without a year ("started 4/2"): PHI only in patient context (see dates.py)."""
    for m in re.finditer(SHORT_DATE, text):
        yield Finding("DATE", *m.span())


def _first_group(m: re.Match[str]) -> int:
    """The first capturing group that matched, or the whole match."""
    for i in range(1, (m.re.groups or 0) + 1):
        if m.group(i) is not None:
            return i
    return 0
