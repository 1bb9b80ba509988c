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
END = re.compile(r"(?<=[.?!;])[\"”’)\]]*\s+(?=[\"“‘(\[]?[A-Z0-9•●○▪■◦–-]|[a-z]\s+[A-Z])")  # "t A ..." footnotes
ITEM_BREAK = re.compile(r"\n\s*\n|\n(?=\s*(?:[•●○▪■◦□➢►✓\-–*]|\(?\d{1,2}[.)]|\[\s?\d{1,2}\]|\(?[a-z][.)])\s)")


def _ends_with_abbreviation(text: str) -> bool:
    m = re.search(r"([A-Za-z.]+)\.\s*[\"”’)\]]*$", text)
    if not m:
        return False
    word = m.group(1).lower().strip(".")
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace-trimmed, covering the text in order."""
    cuts = {0, len(text)}
    for m in END.finditer(text):
        if not _ends_with_abbreviation(text[: m.start()].rstrip('"”’)] ')):
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


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]
