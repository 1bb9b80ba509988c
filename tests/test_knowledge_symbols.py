"""Symbol-font characters (U+F0xx) read as the page shows them; a list's bullets are left as the models learnt them."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.readers import read_document
from knowledge.readers.symbols import symbols_in_line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("ANC \uf0b3 1000/mm3", "ANC ≥ 1000/mm3"),
        ("Grade \uf0a3 1", "Grade ≤ 1"),
        ("Visit windows \uf0b13 days", "Visit windows ±3 days"),
        ("Store at 15\uf0b0C to 30\uf0b0C", "Store at 15°C to 30°C"),
        ("a CST of \uf0b3 325 \uf06dm", "a CST of ≥ 325 μm"),
        ("ALT > 5\uf0b4ULN", "ALT > 5×ULN"),
        ("Arm A (n\uf03d285)", "Arm A (n=285)"),
        ("Ozurdex\uf0e2 implant", "Ozurdex® implant"),
        ("\uf062-hCG", "β-hCG"),
        ("eGFR 30 to \uf03c90", "eGFR 30 to <90"),
        ("no symbols at all", "no symbols at all"),
    ],
)
def test_symbol_font_characters_become_what_the_page_shows(raw: str, shown: str) -> None:
    assert symbols_in_line(raw) == shown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\uf0b7 Change in dactylitis count; PASI \uf0b3 75", "\uf0b7 Change in dactylitis count; PASI ≥ 75"),
        ("  \uf0d8 NYHA may be assessed by phone", "  \uf0d8 NYHA may be assessed by phone"),  # Wingdings arrow
        ("\uf071 I have slight problems in walking", "\uf071 I have slight problems in walking"),  # Wingdings box
        ("\uf02d Dialysis", "\uf02d Dialysis"),  # a dash bullet would open a list item as "-"
        ("\uf0b3 75 x 10^9/L", "≥ 75 x 10^9/L"),  # a value sign opening a wrapped table cell is a value
        ("\uf061 = 0.9 for females", "α = 0.9 for females"),  # a formula's Greek letter stays a letter
    ],
)
def test_a_bullet_opening_a_line_is_left_as_the_models_learnt_it(raw: str, shown: str) -> None:
    """Reading Symbol bullets as list items changed which quote the shipped models chose (docs/knowledge.md)."""
    assert symbols_in_line(raw) == shown


def test_values_in_converted_text_are_quotable_and_its_lists_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "protocol.txt"
    path.write_text(
        "5.1 Inclusion Criteria\n\n"
        "Subjects must meet all of the following:\n"
        "\uf0b7 Age \uf0b3 18 years at screening.\n"
        "\uf0b7 eGFR \uf0b3 30 mL/min/1.73 m2.\n\n"
        "6.2 Visit Windows\n\n"
        "Visits after Day 1 have a window of \uf0b13 days.\n",
        encoding="utf-8",
    )
    blocks = read_document(path).blocks
    text = "\n".join(b.text for b in blocks)
    assert "\uf0b7 Age ≥ 18 years at screening.\n\uf0b7 eGFR ≥ 30 mL/min/1.73 m2." in text
    assert any(b.text == "Visits after Day 1 have a window of ±3 days." for b in blocks)


def test_symbols_in_a_docx_are_mapped_too(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Store the kits at 2\uf0b0C to 8\uf0b0C (\uf0b1 0.5\uf0b0C).")
    path = tmp_path / "manual.docx"
    document.save(path)
    assert read_document(path).blocks[0].text == "Store the kits at 2°C to 8°C (± 0.5°C)."
