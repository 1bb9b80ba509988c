"""DOCX: paragraphs and tables in body order; heading styles give sections, Word's own page breaks give pages,
and Word's automatic numbering gives headings and criteria the numbers Word shows (docx_numbering)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from knowledge.readers.blocks import Block, ParsedDocument, ReadError
from knowledge.readers.docx_numbering import Numbering
from knowledge.readers.headings import toc_line

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TOC_STYLE = re.compile(r"toc\s*\d\b", re.IGNORECASE)  # "TOC 1" ... "toc 9", not "TOC Heading"
HEADING_STYLE = re.compile(r"^(heading\s*\d|title)$", re.IGNORECASE)


def _page_breaks(element: object, rendered: bool) -> int:
    """Page breaks inside a paragraph: Word's last rendering if the file has it, else hard breaks."""
    if rendered:
        return len(element.findall(f".//{W}lastRenderedPageBreak"))  # type: ignore[attr-defined]
    return sum(1 for br in element.iter(f"{W}br") if br.get(f"{W}type") == "page")  # type: ignore[attr-defined]


def _body_children(body: object) -> list[object]:
    """The body's paragraphs and tables in order, those inside content controls (w:sdt) included."""
    out: list[object] = []
    for child in body.iterchildren():  # type: ignore[attr-defined]
        if child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                out.extend(_body_children(content))
        else:
            out.append(child)
    return out


def _style_id(paragraph: object) -> str | None:
    ppr = paragraph.find(f"{W}pPr")  # type: ignore[attr-defined]
    style = None if ppr is None else ppr.find(f"{W}pStyle")
    return None if style is None else style.get(f"{W}val")


def _numbered(label: str | None, text: str) -> str:
    """The text with the number Word shows in front, unless the text already starts with that very number."""
    if not label or not text or text == label or text.startswith(label + " "):
        return text
    return f"{label} {text}"


def _cell_text(cell: object, numbering: Numbering) -> str:
    """A table cell's paragraphs, each with its number: criteria listed in a table count on with the body's."""
    parts = []
    for paragraph in cell.paragraphs:  # type: ignore[attr-defined]
        label = numbering.label(paragraph._p, _style_id(paragraph._p))
        parts.append(_numbered(label, paragraph.text.strip()))
    return " ".join(p for p in parts if p)


MAX_NESTING = 4  # tables in tables this deep are read; a hostile file's deeper ones are not


def _table_blocks(table: object, numbering: Numbering, where: int | None, depth: int = 0) -> list[Block]:
    """A table's rows, each cell in its grid column (an empty one and a repeated "X" too: a schedule's row is read
    against its header; a merged cell comes back once per column it spans, and is read in the first). A first row
    that is one cell across the table is a caption; a table nested in a cell is read after its row, once."""
    blocks: list[Block] = []
    started = False
    nested_seen: set[object] = set()  # the elements themselves: an id() of a freed proxy can come back
    for row in table.rows:  # type: ignore[attr-defined]
        cells: list[str] = []
        seen: set[int] = set()
        nested = []
        for cell in row.cells:
            if id(cell._tc) in seen:
                cells.append("")
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(_cell_text(cell, numbering).split()))
            tables = cell.tables
            nested += [t for t in tables if t._tbl not in nested_seen]  # a vertical merge repeats its cell's tables
            nested_seen.update(t._tbl for t in tables)
        if not started and len(cells) > 1 and len(seen) == 1 and cells[0]:
            blocks.append(Block("text", cells[0], where))  # "Table 2. Dosing" across the top
        elif any(cells):
            blocks.append(Block("row", " | ".join(cells), where))
            started = True
        if depth < MAX_NESTING:
            for inner in nested:
                blocks.extend(_table_blocks(inner, numbering, where, depth + 1))
    return blocks


def _numbering(document: object) -> Numbering:
    """The document's list definitions and styles; a file without a numbering part numbers nothing."""
    try:
        numbering_xml = document.part.numbering_part.element  # type: ignore[attr-defined]
    except (KeyError, NotImplementedError, AttributeError):
        numbering_xml = None
    styles_xml = getattr(getattr(document, "styles", None), "element", None)
    return Numbering(numbering_xml, styles_xml)


def read_docx(path: Path) -> ParsedDocument:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReadError(f"not a readable DOCX ({type(exc).__name__}: {str(exc)[:120]})") from None
    except Exception as exc:  # python-docx's PackageNotFoundError, lxml errors, its own AttributeErrors on odd parts
        # their text names python-docx's internals ("'_Element' object has no attribute 'overrides'"): not a reason
        raise ReadError(
            f"not a readable DOCX: a zip file, but its parts are not a Word document's ({type(exc).__name__})"
        ) from None
    body = document.element.body
    rendered = body.find(f".//{W}lastRenderedPageBreak") is not None
    has_breaks = rendered or any(br.get(f"{W}type") == "page" for br in body.iter(f"{W}br"))
    page = 1
    blocks: list[Block] = []
    numbering = _numbering(document)
    for child in _body_children(body):
        if child.tag == f"{W}p":
            para = Paragraph(child, document)
            page += _page_breaks(child, rendered)
            label = numbering.label(child, _style_id(child))  # every numbered paragraph counts, an empty one too
            text = para.text.strip()
            style = (para.style.name if para.style is not None else "") or ""
            if not text or toc_line(text) or TOC_STYLE.match(style):  # Word's own contents: "TOC 1" tab-leader lines
                continue
            text = _numbered(label, text)
            where = page if has_breaks else None
            if HEADING_STYLE.match(style.strip()):
                blocks.append(Block("heading", text, where, section=" ".join(text.split())))
            elif "list" in style.lower() or child.find(f"./{W}pPr/{W}numPr") is not None:
                blocks.append(Block("item", text, where))
            else:
                blocks.append(Block("text", text, where))
        elif child.tag == f"{W}tbl":
            blocks.extend(_table_blocks(Table(child, document), numbering, page if has_breaks else None))
            page += _page_breaks(child, rendered)
    core_title = (document.core_properties.title or "").strip()
    title = core_title or next((b.text for b in blocks if b.kind == "heading"), None)
    pages = page if has_breaks else None
    return ParsedDocument(blocks, title=title, pages=pages)
