"""Readers turn one file into a `ParsedDocument` (blocks with pages and section headings).

Formats by extension; `RICHNESS` orders them for picking one file when the same document is
present in several formats (a PDF keeps pages, plain text keeps least).
"""

from __future__ import annotations

from pathlib import Path

from knowledge.readers.blocks import Block, ParsedDocument, ReadError
from knowledge.readers.limits import ReadLimits, check_zip
from knowledge.readers.symbols import symbols_in_text

FORMATS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}
RICHNESS = {"pdf": 5, "docx": 4, "html": 3, "markdown": 2, "text": 1}

__all__ = [
    "FORMATS",
    "RICHNESS",
    "Block",
    "ParsedDocument",
    "ReadError",
    "ReadLimits",
    "file_format",
    "read_document",
]


def file_format(path: Path) -> str | None:
    return FORMATS.get(path.suffix.lower())


def read_document(path: Path, limits: ReadLimits | None = None) -> ParsedDocument:
    """Parse by extension; any problem becomes a `ReadError` whose message says what is wrong.

    `limits` caps what the file unpacks to and the text it yields (defaults: `ReadLimits()`)."""
    limits = limits or ReadLimits()
    kind = file_format(path)
    if kind is None:
        raise ReadError(
            f"unsupported file type {path.suffix or '(no extension)'}; use PDF, DOCX, HTML, Markdown or text"
        )
    if path.stat().st_size == 0:
        raise ReadError("empty file")
    if kind == "pdf":
        from knowledge.readers.pdf import read_pdf

        doc = read_pdf(path, limits)
    elif kind == "docx":
        from knowledge.readers.docx import read_docx

        check_zip(path, limits)
        doc = read_docx(path)
    elif kind == "html":
        from knowledge.readers.html import read_html

        doc = read_html(path, limits)
    else:
        from knowledge.readers.text import read_text

        doc = read_text(path, limits, markdown=kind == "markdown")
    if kind in ("docx", "html"):  # line-based formats map symbols line by line as they read
        for block in doc.blocks:
            block.text = symbols_in_text(block.text)
    limits.check_text(sum(len(b.text) for b in doc.blocks))
    if not any(b.text.strip() for b in doc.blocks if b.kind != "heading"):
        raise ReadError("no text found in the document")
    return doc
