"""Plain text and Markdown: decoded strictly, pages from form feeds or from running page headers."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from knowledge.readers.blocks import ParsedDocument, ReadError
from knowledge.readers.limits import ReadLimits
from knowledge.readers.lines import Line, blocks_from_lines, pages_from_markers, strip_running_lines
from knowledge.readers.symbols import symbols_in_text

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (Windows' "Unicode" text, with or without BOM), else Windows-1252;
    binary content is refused."""
    wide = _utf16(data)
    if wide is not None:
        return wide
    if b"\x00" in data[:8192]:
        raise ReadError("binary content, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReadError("not valid UTF-8 or Windows-1252 text")


def _utf16(data: bytes) -> str | None:
    """The text, when the bytes are UTF-16: a byte-order mark, or (Notepad's "Unicode" without one) a zero byte in
    every other position of ASCII-range text. Found by a probe: such files were refused as binary."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    else:
        head = data[:8192]
        even, odd = head[0::2], head[1::2]
        if len(head) < 4 or len(head) % 2:
            return None
        if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
            encoding = "utf-16-le"
        elif even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
            encoding = "utf-16-be"
        else:
            return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _front_matter_title(text: str) -> tuple[str | None, str]:
    m = FRONT_MATTER.match(text)
    if not m:
        return None, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError:
        return None, text
    title = None
    if isinstance(meta, dict):
        source = meta.get("source")
        found = meta.get("title") or (source.get("title") if isinstance(source, dict) else None)
        title = " ".join(str(found).split()) if found else None
    blank = "\n" * m.group(0).count("\n")  # keep line numbers stable
    return title, blank + text[m.end() :]


def _lines(text: str) -> tuple[list[Line], int | None]:
    if "\f" in text:
        pages = strip_running_lines([p.splitlines() for p in text.split("\f")])
        return [(ln, n) for n, page in enumerate(pages, start=1) for ln in page], len(pages)
    raw = text.splitlines()
    marked = pages_from_markers(raw)
    if marked:
        numbers = [p for _, p in marked if p is not None]
        return marked, max(numbers) if numbers else None
    return [(ln, None) for ln in raw], None


def read_text(path: Path, limits: ReadLimits, *, markdown: bool = False) -> ParsedDocument:
    text = symbols_in_text(decode(path.read_bytes()))
    limits.check_text(len(text))
    title, text = _front_matter_title(text) if markdown else (None, text)
    if not text.strip():
        raise ReadError("no text in the file")
    lines, pages = _lines(text)
    blocks = blocks_from_lines(lines, markdown=markdown)
    if markdown and title is None:
        title = next((b.section for b in blocks if b.kind == "heading" and b.text.startswith("# ")), None)
    return ParsedDocument(blocks, title=title, pages=pages)
