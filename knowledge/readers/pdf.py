"""PDF: text per page, so every block keeps the page it is printed on (1-based).

PDFium (pypdfium2) reads the text: C, ~0.2 s for a 159-page protocol where pypdf took ~1.5 s, which
was most of what ingest spent outside the embedding; it also keeps words whole that pypdf split
("t he", "7 -Field"). Measured equal for answers, leave-one-document-out (docs/knowledge.md,
session 15). Its line-end hyphen marker becomes a hyphen and a line break, as pypdf printed it.

PDFium is not thread-safe, not even across documents: every call runs under one process-wide lock
and every object is closed inside it. It has no cap on what compressed streams unpack to, so
`check_streams` bounds that first; the files it cannot bound cheaply (encrypted; LZW or RunLength
text streams) are read with pypdf, whose filters have their own limits.
"""

from __future__ import annotations

import io
import logging
import threading
from pathlib import Path

from knowledge.readers.blocks import ParsedDocument, ReadError
from knowledge.readers.limits import MB, ReadLimits
from knowledge.readers.lines import blocks_from_lines, strip_running_lines
from knowledge.readers.pdf_streams import check_streams
from knowledge.readers.symbols import symbols_in_line

log = logging.getLogger(__name__)
ENCRYPTED = "encrypted PDF: it needs a password; save an unprotected copy and ingest that"
LINE_END_HYPHEN = str.maketrans({"\x02": "-\n", "\ufffe": "-\n"})  # PDFium joins a hyphenated line, marks the join
_PDFIUM = threading.Lock()


def read_pdf(path: Path, limits: ReadLimits) -> ParsedDocument:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    check = check_streams(data, limits.max_unpacked_bytes)
    if check.over_limit:
        raise ReadError(
            f"its compressed streams unpack past the {limits.max_unpacked_bytes // MB} MB limit "
            "(SITELINE_MAX_UNPACKED_MB): refused as a decompression bomb"
        )
    if check.needs_pypdf:
        log.info("PDF read with pypdf (%s)", check.needs_pypdf)
        pages, title = _pypdf_pages(data, limits)
    else:
        pages, title = _pdfium_pages(data, limits)
    if not pages:
        raise ReadError("the PDF has no pages")
    pages = strip_running_lines([[symbols_in_line(ln) for ln in page] for page in pages])
    lines = [(ln, n) for n, page in enumerate(pages, start=1) for ln in page]
    if not any(t.strip() for t, _ in lines):
        raise ReadError("no extractable text (a scanned PDF? OCR is not supported)")
    title = title.strip() if isinstance(title, str) and len(title.strip()) > 3 else None
    return ParsedDocument(blocks_from_lines(lines), title=title, pages=len(pages))


def _pdfium_pages(data: bytes, limits: ReadLimits) -> tuple[list[list[str]], str | None]:
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise ReadError(ENCRYPTED) from None
            raise ReadError(f"not a readable PDF ({str(exc)[:120]})") from None
        try:
            pages: list[list[str]] = []
            chars = 0
            for index in range(len(document)):  # counted page by page: a text-heavy file stops at the cap
                page = document[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        # inside the page box: no margin stamps
                        text = textpage.get_text_bounded().translate(LINE_END_HYPHEN)
                    finally:
                        textpage.close()
                finally:
                    page.close()
                chars += len(text)
                limits.check_text(chars)
                pages.append(text.splitlines())
            title = document.get_metadata_dict(skip_empty=True).get("Title")
        except pdfium.PdfiumError as exc:
            raise ReadError(f"not a readable PDF ({str(exc)[:120]})") from None
        finally:
            document.close()
    return pages, title


def _pypdf_pages(data: bytes, limits: ReadLimits) -> tuple[list[list[str]], str | None]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable PDFs warn per object
    try:
        reader = PdfReader(io.BytesIO(data))  # the bytes already read and checked: not the file again
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")  # many "protected" PDFs only restrict printing, with an empty password
            except Exception:
                ok = 0
            if not ok:
                raise ReadError(ENCRYPTED)
        pages: list[list[str]] = []
        chars = 0
        for page in reader.pages:  # counted page by page: a compressed-stream bomb stops at the cap
            text = page.extract_text() or ""
            chars += len(text)
            limits.check_text(chars)
            pages.append(text.splitlines())
        title = (reader.metadata.title if reader.metadata else None) or None
    except ReadError:
        raise
    except FileNotDecryptedError:
        raise ReadError(ENCRYPTED) from None
    except PyPdfError as exc:
        if type(exc).__name__ == "LimitReachedError":  # pypdf stops a stream unpacking past its 75 MB limit
            raise ReadError(
                "a compressed stream unpacks past pypdf's size limit: refused as a decompression bomb"
            ) from None
        raise ReadError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ReadError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    return pages, title
