"""Word's automatic numbering read into headings and criteria, as Word shows them."""

from __future__ import annotations

from pathlib import Path

import docx
from docx.oxml import parse_xml

from knowledge.chunking import chunk_blocks
from knowledge.readers import read_document
from knowledge.readers.docx_numbering import format_number

NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# A sponsor template's lists: 7 numbers the headings ("1", "1.1"), 8 the criteria ("1.", then "a)" below them)
ABSTRACT = f"""<w:abstractNum {NS} w:abstractNumId="70">
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="Heading1"/>
    <w:lvlText w:val="%1"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:pStyle w:val="Heading2"/>
    <w:lvlText w:val="%1.%2"/></w:lvl>
</w:abstractNum>"""
CRITERIA = f"""<w:abstractNum {NS} w:abstractNumId="80">
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%2)"/></w:lvl>
</w:abstractNum>"""


def _num(num_id: int, abstract: int, restart: bool = False) -> str:
    override = '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride>' if restart else ""
    return f'<w:num {NS} w:numId="{num_id}"><w:abstractNumId w:val="{abstract}"/>{override}</w:num>'


def _numbered(paragraph: object, num_id: int, level: int) -> None:
    ppr = paragraph._p.get_or_add_pPr()  # type: ignore[attr-defined]
    ppr.append(parse_xml(f'<w:numPr {NS}><w:ilvl w:val="{level}"/><w:numId w:val="{num_id}"/></w:numPr>'))


def _with_lists(document: object, abstracts: list[str], nums: list[str]) -> None:
    """List definitions added to the document's numbering part, the abstract ones before every w:num (schema order)."""
    numbering = document.part.numbering_part.element  # type: ignore[attr-defined]
    present = numbering.findall(f"{W}abstractNum")
    at = numbering.index(present[-1]) + 1 if present else 0
    for xml in reversed(abstracts):
        numbering.insert(at, parse_xml(xml))
    for xml in nums:
        numbering.append(parse_xml(xml))


def _protocol(path: Path) -> None:
    document = docx.Document()
    _with_lists(document, [ABSTRACT, CRITERIA], [_num(70, 70), _num(80, 80), _num(81, 80, restart=True)])
    for name in ("Heading 1", "Heading 2"):  # the template numbers headings through their styles
        ppr = document.styles[name].element.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:numPr {NS}><w:numId w:val="70"/></w:numPr>'))
    document.add_heading("Introduction", level=1)
    document.add_paragraph("The study compares two doses.")
    document.add_heading("Study Population", level=1)
    document.add_heading("Inclusion Criteria", level=2)
    for text, level in (
        ("Aged 18 years or older.", 0),
        ("A body weight of at least 40 kg.", 0),
        ("Either of the following:", 0),
        ("an eGFR of 30 mL/min or more;", 1),
        ("no dialysis.", 1),
    ):
        _numbered(document.add_paragraph(text), 80, level)
    document.add_heading("Exclusion Criteria", level=2)
    _numbered(document.add_paragraph("Pregnancy."), 81, 0)  # a new list instance restarts at 1
    _numbered(document.add_paragraph("Prior gene therapy."), 81, 0)
    document.add_paragraph("Any of the usual checks.", style="List Bullet")  # a bullet has no number to show
    document.save(str(path))


def test_auto_numbered_headings_and_criteria_read_with_the_numbers_word_shows(tmp_path: Path) -> None:
    """A sponsor's Word template numbers headings and criteria automatically; read as text only, "5.1 Inclusion
    Criteria" was cited as "Inclusion Criteria" and "criterion 2" matched nothing."""
    path = tmp_path / "protocol.docx"
    _protocol(path)
    blocks = read_document(path).blocks
    headings = [b.section for b in blocks if b.kind == "heading"]
    assert headings == ["1 Introduction", "2 Study Population", "2.1 Inclusion Criteria", "2.2 Exclusion Criteria"]
    items = [b.text for b in blocks if b.kind == "item"]
    assert items == [
        "1. Aged 18 years or older.",
        "2. A body weight of at least 40 kg.",
        "3. Either of the following:",
        "a) an eGFR of 30 mL/min or more;",
        "b) no dialysis.",
        "1. Pregnancy.",
        "2. Prior gene therapy.",
        "Any of the usual checks.",
    ]
    sections = {c.section for c in chunk_blocks(blocks)}
    assert "2.1 Inclusion Criteria" in sections


def test_a_document_without_numbering_reads_as_typed(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("6.2 Dose Modification", level=2)
    document.add_paragraph("Reduce the dose to 10 mg.")
    path = tmp_path / "typed.docx"
    document.save(str(path))
    assert [b.section for b in read_document(path).blocks if b.kind == "heading"] == ["6.2 Dose Modification"]


def test_number_formats() -> None:
    assert [format_number(n, "lowerRoman") for n in (1, 4, 9, 14)] == ["i", "iv", "ix", "xiv"]
    assert [format_number(n, "upperLetter") for n in (1, 26, 27)] == ["A", "Z", "AA"]
    assert format_number(3, "decimalZero") == "03"


HOSTILE = f"""<w:abstractNum {NS} w:abstractNumId="90">
  <w:lvl w:ilvl="0"><w:start w:val="999999"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%1)"/></w:lvl>
  <w:lvl w:ilvl="x"><w:start w:val="--5"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%2."/></w:lvl>
  <w:lvl w:ilvl="77"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%78."/></w:lvl>
</w:abstractNum>"""


def test_hostile_numbering_reads_as_figures_not_a_gigabyte_label(tmp_path: Path) -> None:
    """A letter label for a start of 999,999 would be 38,000 letters (and 10**12 a gigabyte); levels and starts
    that are no small numbers are ignored, never a crash."""
    document = docx.Document()
    _with_lists(document, [HOSTILE], [_num(90, 90)])
    _numbered(document.add_paragraph("A numbered line."), 90, 0)
    _numbered(document.add_paragraph("A line at a level the list lacks."), 90, 5)
    path = tmp_path / "hostile.docx"
    document.save(str(path))
    texts = [b.text for b in read_document(path).blocks]
    assert texts[0] == "999999) A numbered line."
    assert texts[1] == "A line at a level the list lacks."


def test_docx_numbering_holds_against_a_probes_files(tmp_path: Path) -> None:
    """Found by a probe: a level pattern of 100,000 placeholders was copied into every paragraph (2.7 GB); criteria
    in a table kept no number and stopped the count; "24-Hour Urine Collection" under heading number 2 lost its
    number; paragraphs inside a content control were never read."""
    long_pattern = f"""<w:abstractNum {NS} w:abstractNumId="95"><w:lvl w:ilvl="0"><w:start w:val="1"/>
      <w:numFmt w:val="decimal"/><w:lvlText w:val="{"%1" * 5000}"/></w:lvl></w:abstractNum>"""
    bare = f"""<w:abstractNum {NS} w:abstractNumId="96"><w:lvl w:ilvl="0"><w:start w:val="1"/>
      <w:numFmt w:val="decimal"/><w:lvlText w:val="%1"/></w:lvl></w:abstractNum>"""
    document = docx.Document()
    _with_lists(document, [CRITERIA, long_pattern, bare], [_num(80, 80), _num(95, 95), _num(96, 96)])
    _numbered(document.add_paragraph("Pattern too long to be a number."), 95, 0)
    _numbered(document.add_paragraph("Aged 18 or older."), 80, 0)
    table = document.add_table(rows=1, cols=1)
    _numbered(table.cell(0, 0).paragraphs[0], 80, 0)
    table.cell(0, 0).paragraphs[0].add_run("Weight of 40 kg or more.")
    _numbered(document.add_paragraph("Urine volume"), 96, 0)
    _numbered(document.add_paragraph("24-hour urine collected."), 96, 0)
    body = document.element.body
    control = parse_xml(f'<w:sdt {NS}><w:sdtContent><w:p><w:r><w:t>Inside a content control.</w:t></w:r></w:p>'
                        "</w:sdtContent></w:sdt>")  # fmt: skip
    body.insert(len(body) - 1, control)  # before the section properties
    path = tmp_path / "probe.docx"
    document.save(str(path))
    texts = [b.text for b in read_document(path).blocks]
    assert texts[:2] == ["Pattern too long to be a number.", "1. Aged 18 or older."]
    assert texts[2] == "2. Weight of 40 kg or more."
    assert texts[3:5] == ["1 Urine volume", "2 24-hour urine collected."]  # "2" is not the "24" it starts with
    assert "Inside a content control." in texts
