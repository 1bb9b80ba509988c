"""Characters set in a symbol font, as the page shows them.

A PDF that sets "≥", "±", "μ" or "°" in the Symbol font without a Unicode map yields private-use
characters (U+F0B3 for "≥"): a box in Slack and nothing a question can match ("window ±3 days",
"ANC ≥ 1000/mm3"). Adobe's Symbol encoding (the table below) gives the character back. Text
converted from such PDFs carries them too.

A symbol opening a line, alone, that is not a value sign (Symbol's bullet, Wingdings' ▪ ➢ ❑) is a
list bullet. It is left as it is: the answer models learnt protocols' lists with these bullets as
running text, and reading them as list items moved answers (measured, docs/knowledge.md, session 15).
"""

from __future__ import annotations

import re

_GREEK_UPPER = "ΑΒΧΔΕΦΓΗΙϑΚΛΜΝΟΠΘΡΣΤΥςΩΞΨΖ"  # Symbol 0x41-0x5A
_GREEK_LOWER = "αβχδεφγηιϕκλμνοπθρστυϖωξψζ"  # Symbol 0x61-0x7A
_HIGH = {  # Symbol 0xA1-0xF2, the characters a protocol uses (relations, units, marks, arrows)
    0xA2: "′", 0xA3: "≤", 0xA4: "⁄", 0xA5: "∞", 0xAB: "↔", 0xAC: "←", 0xAD: "↑", 0xAE: "→", 0xAF: "↓",
    0xB0: "°", 0xB1: "±", 0xB2: "″", 0xB3: "≥", 0xB4: "×", 0xB5: "∝", 0xB6: "∂", 0xB7: "•", 0xB8: "÷",
    0xB9: "≠", 0xBA: "≡", 0xBB: "≈", 0xBC: "…", 0xD2: "®", 0xD3: "©", 0xD4: "™", 0xD6: "√", 0xD7: "⋅",
    0xDB: "⇔", 0xDC: "⇐", 0xDE: "⇒", 0xE2: "®", 0xE3: "©", 0xE4: "™", 0xE5: "∑",
}  # fmt: skip
SYMBOL_FONT: dict[int, str] = {
    **{0xF000 + c: chr(c) for c in range(0x20, 0x7F) if not chr(c).isalpha()},  # ASCII punctuation, digits
    0xF02D: "-",  # the font's minus: what a coordinator types
    0xF022: "∀", 0xF024: "∃", 0xF027: "∋", 0xF02A: "∗", 0xF040: "≅", 0xF05C: "∴", 0xF05E: "⊥", 0xF07E: "∼",
    **{0xF041 + i: ch for i, ch in enumerate(_GREEK_UPPER)},
    **{0xF061 + i: ch for i, ch in enumerate(_GREEK_LOWER)},
    **{0xF000 + c: ch for c, ch in _HIGH.items()},
}  # fmt: skip
_VALUE_SIGNS = set("<>=+±≤≥≠≈×÷°′″∞∼()[]{}.,:;%/#&0123456789αβγδεκμπσΔ")  # "-" opens a list item
_PRIVATE_USE = re.compile("[\uf020-\uf0ff]")  # where a symbol font's characters land
_LEADING = re.compile(rf"^(\s*)({_PRIVATE_USE.pattern})(?=\s|$)")  # a symbol leading the line
_TABLE = str.maketrans(SYMBOL_FONT)
_BULLET_LIKE = {mapped for mapped in SYMBOL_FONT.values() if mapped not in _VALUE_SIGNS} | {""}


def symbols_in_line(line: str) -> str:
    """One line of text with its symbol-font characters made real (see the module's docstring)."""
    if not _PRIVATE_USE.search(line):
        return line
    lead = _LEADING.match(line)
    if lead and SYMBOL_FONT.get(ord(lead.group(2)), "") in _BULLET_LIKE:  # a bullet: kept as it is
        return line[: lead.end()] + line[lead.end() :].translate(_TABLE)
    return line.translate(_TABLE)


def symbols_in_text(text: str) -> str:
    """`symbols_in_line` for every line of a block of text."""
    if not _PRIVATE_USE.search(text):
        return text
    return "\n".join(symbols_in_line(line) for line in text.split("\n"))
