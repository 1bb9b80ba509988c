"""Word's automatic numbering, rendered as Word shows it ("5.1", "3.", "b)").

Sponsors' Word templates number headings and criteria automatically: the text of "5.1 Inclusion Criteria" is
"Inclusion Criteria", and the number lives in numbering.xml, linked from the paragraph or from its style. Read
without it, a section is cited without its number and "inclusion criterion 4" names nothing. python-docx reads the
text only, so the counters are kept here: one set per list definition, a level's counter restarting whenever a
level above it moves on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"))
ROMAN += ((50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
NO_NUMBER = frozenset({"bullet", "none"})  # shown as a symbol or nothing: there is no number to name
MAX_LEVELS = 9
SMALL_INT = re.compile(r"^-?\d{1,6}$")
MAX_SPELLED = 1000  # past this, letter and Roman labels are printed as figures
MAX_PATTERN = 40  # Word's own level patterns ("%1.%2.", "(%3)") are a few characters; a longer one is no number
PLACEHOLDER = re.compile(r"%\d")


def _val(element: object | None, tag: str) -> str | None:
    if element is None:
        return None
    found = element.find(f"{W}{tag}")  # type: ignore[attr-defined]
    return None if found is None else found.get(f"{W}val")


def _int(text: str | None, default: int | None) -> int | None:
    """A count or level from the XML, or `default` where it is missing or not a small whole number (a hostile file
    can say anything: a start of 10**12 would print a letter label of a gigabyte)."""
    return int(text) if text is not None and SMALL_INT.match(text) else default


def _level(element: object) -> int | None:
    """A level's number as its ilvl attribute gives it: 0 when absent, None when it is no number."""
    raw = element.get(f"{W}ilvl")  # type: ignore[attr-defined]
    return 0 if raw is None else _int(raw, None)


def _roman(n: int) -> str:
    out = []
    for value, letters in ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def _letters(n: int) -> str:
    """Word's letter numbering: a..z, then aa..zz."""
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str:
    if n < 1 or n > MAX_SPELLED:  # letters and Roman figures only for what a document really counts to
        return str(n)
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt == "decimalZero":
        return f"{n:02d}"
    return str(n)


@dataclass
class Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = ""  # "%1.%2." : the counters of levels 1 and 2
    style: str | None = None  # a paragraph style this level belongs to ("Heading2")


@dataclass
class _List:
    levels: dict[int, Level]
    legal: set[int] = field(default_factory=set)  # levels numbered in Arabic figures throughout ("isLgl")


class Numbering:
    """Labels of numbered paragraphs, in document order: call `label` once per paragraph, first to last."""

    def __init__(self, numbering_xml: object | None, styles_xml: object | None) -> None:
        self._abstract: dict[str, _List] = {}
        self._num: dict[str, tuple[str, dict[int, int]]] = {}  # numId -> (abstractNumId, start overrides)
        self._style_num: dict[str, tuple[str | None, int | None]] = {}  # style id -> (numId, ilvl)
        self._based_on: dict[str, str] = {}
        self._counters: dict[str, list[int | None]] = {}
        self._overridden: set[str] = set()  # numIds whose start overrides have been applied
        if styles_xml is not None:
            self._read_styles(styles_xml)
        if numbering_xml is not None:
            self._read_numbering(numbering_xml)

    def _read_styles(self, root: object) -> None:
        for style in root.iter(f"{W}style"):  # type: ignore[attr-defined]
            sid = style.get(f"{W}styleId")
            if not sid:
                continue
            based = _val(style, "basedOn")
            if based:
                self._based_on[sid] = based
            ppr = style.find(f"{W}pPr")
            numpr = None if ppr is None else ppr.find(f"{W}numPr")
            if numpr is not None:
                self._style_num[sid] = (_val(numpr, "numId"), _int(_val(numpr, "ilvl"), None))

    def _read_numbering(self, root: object) -> None:
        links: dict[str, str] = {}  # abstractNumId -> the numbering style it takes its levels from
        for abstract in root.iter(f"{W}abstractNum"):  # type: ignore[attr-defined]
            aid = abstract.get(f"{W}abstractNumId")
            levels: dict[int, Level] = {}
            legal: set[int] = set()
            for lvl in abstract.iter(f"{W}lvl"):
                ilvl = _level(lvl)
                if ilvl is None or not 0 <= ilvl < MAX_LEVELS:
                    continue
                levels[ilvl] = Level(
                    _int(_val(lvl, "start"), 1) or 1,
                    _val(lvl, "numFmt") or "decimal",
                    _val(lvl, "lvlText") or "",
                    _val(lvl, "pStyle"),
                )
                if lvl.find(f"{W}isLgl") is not None:
                    legal.add(ilvl)
            link = _val(abstract, "numStyleLink")
            if link:
                links[aid] = link
            self._abstract[aid] = _List(levels, legal)
        for num in root.iter(f"{W}num"):  # type: ignore[attr-defined]
            starts = {}
            for override in num.iter(f"{W}lvlOverride"):
                start, ilvl = _int(_val(override, "startOverride"), None), _level(override)
                if start is not None and ilvl is not None and 0 <= ilvl < MAX_LEVELS:
                    starts[ilvl] = start
            self._num[num.get(f"{W}numId")] = (_val(num, "abstractNumId") or "", starts)
        for aid, style in links.items():  # a list defined by a numbering style: its levels are that style's list's
            num_id, _ = self._style_num.get(style, (None, None))
            if num_id in self._num and not self._abstract[aid].levels:
                self._abstract[aid] = self._abstract.get(self._num[num_id][0], self._abstract[aid])

    def _style_numbering(self, style: str | None) -> tuple[str | None, int | None]:
        seen = set()
        while style and style not in seen:
            seen.add(style)
            if style in self._style_num:
                return self._style_num[style]
            style = self._based_on.get(style)
        return None, None

    def label(self, paragraph: object, style: str | None) -> str | None:
        """The number Word shows before this paragraph ("5.1", "3.", "b)"), or None: not numbered, or a bullet."""
        ppr = paragraph.find(f"{W}pPr")  # type: ignore[attr-defined]
        numpr = None if ppr is None else ppr.find(f"{W}numPr")
        num_id, level = (_val(numpr, "numId"), _int(_val(numpr, "ilvl"), None)) if numpr is not None else (None, None)
        if num_id is None:
            num_id, level = self._style_numbering(style)
        if not num_id or num_id == "0" or num_id not in self._num:
            return None
        aid, starts = self._num[num_id]
        definition = self._abstract.get(aid)
        if definition is None or not definition.levels:
            return None
        if level is None:  # a style's list names its level by the style ("Heading2" is the list's second level)
            level = next((i for i, lv in definition.levels.items() if style and lv.style == style), 0)
        level = min(max(level, 0), MAX_LEVELS - 1)
        return self._advance(aid, num_id, starts, definition, level)

    def _advance(self, aid: str, num_id: str, starts: dict[int, int], definition: _List, level: int) -> str | None:
        counters = self._counters.setdefault(aid, [None] * MAX_LEVELS)
        if starts and num_id not in self._overridden:  # a list restarted by its own instance ("1." again)
            self._overridden.add(num_id)
            for i in starts:
                if i < MAX_LEVELS:
                    counters[i] = None
        current = counters[level]
        start = starts.get(level, definition.levels.get(level, Level()).start)
        counters[level] = start if current is None else current + 1
        for deeper in range(level + 1, MAX_LEVELS):
            counters[deeper] = None
        this = definition.levels.get(level)
        if this is None or this.fmt in NO_NUMBER or "%" not in this.text or len(this.text) > MAX_PATTERN:
            return None
        text = this.text
        for i in range(level, -1, -1):  # "%10" cannot occur: Word has nine levels
            lv = definition.levels.get(i, Level())
            value = counters[i] if counters[i] is not None else lv.start
            fmt = "decimal" if level in definition.legal else lv.fmt
            text = text.replace(f"%{i + 1}", format_number(value, fmt))
        text = PLACEHOLDER.sub("", text)  # a level below this one ("%1.%2" on level 1) shows nothing in Word
        return text.strip() if text.strip(" .") else None
