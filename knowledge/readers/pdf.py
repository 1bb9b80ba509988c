"""PDF: text per page with pypdf, so every block keeps the page it is printed on (1-based)."""

from __future__ import annotations

import logging
from pathlib import Path

from knowledge.readers.blocks import ParsedDocument, ReadError
from knowledge.readers.limits import ReadLimits
from knowledge.readers.lines import blocks_from_lines, strip_running_lines


def read_pdf(path: Path, limits: ReadLimits) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # malformed-but-readable PDFs warn per object
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")  # many "protected" PDFs only restrict printing, with an empty password
            except Exception:
                ok = 0
            if not ok:
                raise ReadError("encrypted PDF: it needs a password; save an unprotected copy and ingest that")
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
        raise ReadError("encrypted PDF: it needs a password; save an unprotected copy and ingest that") from None
    except PyPdfError as exc:
        if type(exc).__name__ == "LimitReachedError":  # pypdf stops a stream unpacking past its 75 MB limit
            raise ReadError(
                "a compressed stream unpacks past pypdf's size limit: refused as a decompression bomb"
            ) from None
        raise ReadError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ReadError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    if not pages:
        raise ReadError("the PDF has no pages")
    pages = strip_running_lines(pages)
    lines = [(ln, n) for n, page in enumerate(pages, start=1) for ln in page]
    if not any(t.strip() for t, _ in lines):
        raise ReadError("no extractable text (a scanned PDF? OCR is not supported)")
    title = title.strip() if isinstance(title, str) and len(title.strip()) > 3 else None
    return ParsedDocument(blocks_from_lines(lines), title=title, pages=len(pages))
