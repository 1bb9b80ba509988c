"""A participant's value in a question, held against the limits a sentence states.

Coordinators ask with the number in hand ("K+ 5.8 at wk 4, what do we do with IP?", "63yo, is there an age
floor?", "she weighs 78 kg, 6.5 g or 7.5 g?"), and the sentence that answers is the one whose limits the
value falls in ("> 5.5 to ≤ 6.0 mmol/L: reduce to 10 mg"), or the one naming the limit it misses ("65 years of
age or older"). Word overlap cannot tell the row for 5.0-5.5 from the row for 5.5-6.0; these two numbers can:
the share of a sentence's limits (on the value's scale) that the value meets, and whether the sentence names a
number close to it. Visit labels ("wk 4", "C3D1"), ordinals, years and codes ("QRT-5518") are no values.
"""

from __future__ import annotations

import re
from functools import lru_cache

# a number, never from inside a run of digits (a 6,000-digit line was quadratic): "1,500,000" whole, "5.8", "1,5"
NUMBER = r"(?<![\d.,])(\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:[.,]\d+)?)"
QUESTION_VALUE = re.compile(r"(?<![\w.,-])" + NUMBER + r"(?!\d|[.,]\d|st\b|nd\b|rd\b|th\b)")
# a number right after one of these is a schedule or document label, not a participant's value
LABEL_BEFORE = re.compile(
    r"\b(?:wk|wks|week|weeks|day|days|d|visit|v|cycle|c|cohort|part|phase|ph|section|sec|grade|gr|type|stage|"
    r"version|amendment|arm|table|figure|appendix|dose|step|item|question|criterion|protocol|study|q)\s*#?\s*$",
    re.IGNORECASE,
)
SCHEDULE_CODE = re.compile(r"\b[CcDdVvWw]\d+(?:[Dd]\d+)?\b")  # "C3D1", "V7", "W12"
COMPARED = re.compile(r"(≥|>=|=>|≤|<=|=<|>|<)\s*" + NUMBER)
WORD_ABOVE = re.compile(
    r"\b(?:at least|a minimum of|minimum of|no less than|not less than|more than|greater than|above|over|"
    r"exceeding|in excess of|older than|longer than)\s+" + NUMBER,
    re.IGNORECASE,
)
WORD_BELOW = re.compile(
    r"\b(?:at most|a maximum of|maximum of|no more than|not more than|up to|less than|fewer than|below|under|"
    r"within|younger than|shorter than|no later than)\s+" + NUMBER,
    re.IGNORECASE,
)
TRAILING_ABOVE = re.compile(
    NUMBER + r"\s*(?:[^\s\d]+\s+){0,4}?(?:or (?:more|higher|greater|above|older|over|longer)|and (?:above|over|older))",
    re.IGNORECASE,
)
TRAILING_BELOW = re.compile(
    NUMBER + r"\s*(?:[^\s\d]+\s+){0,4}?(?:or (?:less|lower|fewer|below|younger|under|shorter)|and (?:below|under))",
    re.IGNORECASE,
)
RANGE = re.compile(r"(?:between\s+)?" + NUMBER + r"\s*(?:-|–|to|and)\s*" + NUMBER)
ANY_NUMBER = re.compile(r"(?<![\w])" + NUMBER)
QUESTION_SPAN = 1000  # characters of a question read for values: beyond that it is a paste, not what is asked
MAX_VALUES = 8
LABEL_SPAN = 24  # characters before a number read for a label ("wk ", "visit #")
THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")
SENTENCE_SPAN = 1000  # characters of a sentence read for limits (a table row is never split, a paragraph may run on)
SCALE = 3.0  # a limit this many times larger or smaller than the value is about something else
NEAR = 0.25  # a number within a quarter of the value is "close to it"


def _number(text: str) -> float | None:
    """ "1,500" is fifteen hundred (a thousands separator), "1,5" one and a half; nothing past a trillion."""
    plain = text.replace(",", "") if THOUSANDS.fullmatch(text) else text.replace(",", ".")
    try:
        value = float(plain)
    except ValueError:
        return None
    return value if value < 1e12 else None


def question_values(question: str) -> tuple[float, ...]:
    """The participant's values a question gives: "K+ 5.8" → 5.8, "63yo" → 63, "BP 184/96" → 184 and 96."""
    text = SCHEDULE_CODE.sub(" ", question[:QUESTION_SPAN])
    values: list[float] = []
    for m in QUESTION_VALUE.finditer(text):
        if LABEL_BEFORE.search(text[max(0, m.start() - LABEL_SPAN) : m.start()]):
            continue
        value = _number(m.group(1))
        if value is None or value <= 0 or (len(m.group(1)) == 4 and 1900 <= value <= 2100):
            continue
        if value not in values:
            values.append(value)
            if len(values) == MAX_VALUES:
                break
    return tuple(values)


def _in_scale(value: float, limit: float) -> bool:
    return limit > 0 and 1 / SCALE <= value / limit <= SCALE


@lru_cache(maxsize=16384)
def _limits(sentence: str) -> tuple[tuple[str, float, float], ...]:
    """Each limit a sentence states: (kind, low, high) with kind "above"/"below"/"range" (bounds inclusive)."""
    out: list[tuple[str, float, float]] = []
    for m in COMPARED.finditer(sentence):
        n = _number(m.group(2))
        if n is not None:
            out.append(("above" if m.group(1) in ("≥", ">=", "=>", ">") else "below", n, n))
    for pattern, kind in (
        (WORD_ABOVE, "above"),
        (TRAILING_ABOVE, "above"),
        (WORD_BELOW, "below"),
        (TRAILING_BELOW, "below"),
    ):
        out.extend((kind, n, n) for m in pattern.finditer(sentence) if (n := _number(m.group(1))) is not None)
    for m in RANGE.finditer(sentence):
        low, high = _number(m.group(1)), _number(m.group(2))
        if low is not None and high is not None and low < high:
            out.append(("range", low, high))
    return tuple(out)


@lru_cache(maxsize=16384)
def _numbers(sentence: str) -> tuple[float, ...]:
    return tuple(n for m in ANY_NUMBER.finditer(sentence) if (n := _number(m.group(1))) is not None)


def value_fit(sentence: str, values: tuple[float, ...]) -> tuple[float, float]:
    """(the best share of the sentence's limits on a value's scale that the value meets, 1.0 if the sentence
    names a number within a quarter of a value), both 0.0 when the question gives no value."""
    if not values:
        return 0.0, 0.0
    limits = _limits(sentence[:SENTENCE_SPAN])
    numbers = _numbers(sentence[:SENTENCE_SPAN])
    best_fit = 0.0
    near = 0.0
    for value in values:
        scaled = [(k, lo, hi) for k, lo, hi in limits if _in_scale(value, lo) or _in_scale(value, hi)]
        if scaled:
            met = sum(
                (k == "above" and value >= lo) or (k == "below" and value <= hi) or (k == "range" and lo <= value <= hi)
                for k, lo, hi in scaled
            )
            best_fit = max(best_fit, met / len(scaled))
        if any(n > 0 and abs(n - value) <= NEAR * max(n, value) for n in numbers):
            near = 1.0
    return best_fit, near
