"""Sentence spans in a passage, as offsets, so that quotes are always exact substrings of stored text.

Rule-based on purpose (no model download): a sentence ends at . ? ! or ; followed by space and
a capital, digit, bullet or bracket, except after common abbreviations (e.g., i.e., approx., Dr.).
Line breaks before a bullet or numbered item also end a sentence, so list items quote on their own.
"""

from __future__ import annotations

import itertools
import re

_ABBREVIATIONS = (
    "e.g i.e etc vs approx dr mr mrs ms no fig figs al ca inc ltd co corp resp ref refs vol sec sect appx u.s"
)
ABBREVIATIONS = frozenset([*_ABBREVIATIONS.split(), "st", "jr", "sr", "cf", "ie", "eg", "viz", "incl", "esp", "dept"])
ABBREVIATION_WINDOW = 80  # characters before a sentence break in which an abbreviation ("e.g.", "U.S.") is read
END = re.compile(r"(?<=[.?!;])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9•●○▪■◦–-]|[a-z]\s+[A-Z])")  # "t A ..." footnotes
ROW_LINE = re.compile(r"^[^\n]* \| [^\n]*$", re.MULTILINE)  # a table row, as every reader writes rows
ENUMERATOR = re.compile(r"(?:#+\s*)?(?:\d{1,3}(?:\.\d{1,3})*|[A-Za-z]|[IVXivx]{1,4})\.")  # "7.", "4.2.", "b.", "IV."
ENUMERATOR_WINDOW = 24  # an enumerator line starts this close before its "." (longer: a sentence, not a number)
ITEM_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[•●○▪■◦□➢►✓\-–*]|\(?\d{1,2}[.)]|\[\s?\d{1,2}\]|\(?[a-z][.)])\s)")


def _ends_with_abbreviation(text: str) -> bool:
    m = re.search(r"([A-Za-z.]+)\.\s*[\"”’)\]]*$", text)
    if not m:
        return False
    word = m.group(1).lower().strip(".")
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _enumerator_before(text: str, end: int) -> bool:
    """Whether the line up to `end` (just after a ".") is only an enumerator. Looks back a few characters only:
    searching back to the line start made a long one-line file quadratic."""
    low = max(0, end - ENUMERATOR_WINDOW)
    newline = text.rfind("\n", low, end)
    if newline < 0 and low > 0:
        return False  # the line started further back: more than a number stands before the "."
    return ENUMERATOR.fullmatch(text[newline + 1 : end].strip()) is not None


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace-trimmed, covering the text in order. A table row
    ("a | b | c" on one line) is one sentence, whatever punctuation its cells hold."""
    cuts = {0, len(text)}
    rows = [(m.start(), m.end()) for m in ROW_LINE.finditer(text)] if " | " in text else []
    for m in END.finditer(text):
        if any(a < m.end() < b for a, b in rows):
            continue
        if _enumerator_before(text, m.start()):
            continue  # "7. Laboratory", "4.2. Exclusion Criteria", "1. Participant must...": a number, not a sentence
        # only the words just before the break matter: the whole prefix made a one-line file quadratic (minutes)
        if not _ends_with_abbreviation(text[max(0, m.start() - ABBREVIATION_WINDOW) : m.start()].rstrip('"”’)] ')):
            cuts.add(m.end())
    for m in ITEM_BREAK.finditer(text):
        cuts.add(m.end())
    spans = []
    ordered = sorted(cuts)
    for start, end in itertools.pairwise(ordered):
        seg = text[start:end]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg.rstrip())
        if trail > lead:
            spans.append((start + lead, start + trail))
    return spans


def is_question(text: str) -> bool:
    """A document's own question, "**Q: Can a participant be rescreened?**" (bold, a heading or plain): it names
    a topic and says nothing; its answer is what follows."""
    return text.strip().strip("*_# ").endswith("?")


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def table_header(text: str, start: int) -> str | None:
    """The header row of the table a row at `start` belongs to ("Visit | Week | Window"), when the row is one
    ("a | b | c" lines, as the DOCX, HTML and Markdown readers keep rows) and is not the header itself."""
    lines_before = text[:start].split("\n")
    row_end = text.find("\n", start)
    row = text[start : row_end if row_end >= 0 else len(text)]
    if " | " not in row:
        return None
    header = None
    for line in reversed(lines_before[:-1]):
        if not line.strip():
            continue  # rows are blocks of their own, a blank line apart
        if " | " not in line:
            break
        header = line.strip()
    if header is None or set(header.replace("|", "").split()) <= {"-", "---", ":---"}:
        return None
    return " ".join(header.split())


HEADER_UNIT = re.compile(r"\(([^()]{1,20})\)\s*$|\[([^\[\]]{1,20})\]\s*$")  # "Dose (vg/kg)", "Volume [mL]"


def row_with_units(header: str, row: str) -> str:
    """A table row as a sentence would say it, each value followed by its column's unit: under "Cohort | Dose
    (vg/kg)", the row "3 | 1.2 × 10^14" reads "3 | 1.2 × 10^14 vg/kg". A table names its units once, over the
    column; the row alone says "1.2 × 10^14" of nothing."""
    heads = [h.strip() for h in header.strip().strip("|").split(" | ")]
    cells = [c.strip() for c in row.strip().strip("|").split(" | ")]
    if len(heads) != len(cells):
        return row
    out = []
    for head, cell in zip(heads, cells, strict=True):
        unit = HEADER_UNIT.search(head)
        out.append(f"{cell} {unit.group(1) or unit.group(2)}" if unit and cell else cell)
    return " | ".join(out)


def is_table_header(text: str, start: int) -> bool:
    """Whether the line at `start` is a table's header row: a row with rows after it and none before. It
    names the columns and answers nothing on its own."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    if " | " not in text[line_start:line_end] or table_header(text, line_start) is not None:
        return False
    following = next((line for line in text[line_end:].split("\n") if line.strip()), "")
    return " | " in following
