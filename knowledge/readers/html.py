"""HTML: h1-h6 give sections, li items and tr rows stay whole; scripts, styles and navigation are dropped."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag

from knowledge.readers.blocks import Block, ParsedDocument, ReadError
from knowledge.readers.limits import ReadLimits
from knowledge.readers.text import decode

HTML_MARKUP_FACTOR = 4  # markup rarely outweighs text more than 3 to 1
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
SKIP = {"script", "style", "noscript", "nav", "template", "svg", "head", "button", "form"}
TEXT = {"p", "pre", "blockquote", "dd", "dt", "caption", "figcaption", "address"}


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ", strip=True).split())


def _walk(node: Tag, blocks: list[Block]) -> None:
    loose: list[str] = []

    def flush_loose() -> None:
        text = " ".join(" ".join(loose).split())
        if text:
            blocks.append(Block("text", text))
        loose.clear()

    for child in node.children:
        if isinstance(child, NavigableString):
            if child.strip() and type(child) is NavigableString:
                loose.append(str(child))
            continue
        if not isinstance(child, Tag) or child.name in SKIP:
            continue
        name = child.name
        if name in {"span", "a", "b", "strong", "em", "i", "u", "code", "sup", "sub", "small", "mark", "abbr"}:
            loose.append(child.get_text(" ", strip=True))
            continue
        if name == "br":
            continue
        flush_loose()
        if name in HEADINGS:
            text = _text(child)
            if text:
                blocks.append(Block("heading", text, section=text))
        elif name == "table":
            _table(child, blocks)
        elif name in {"ul", "ol"}:
            _list(child, blocks)
        elif name in TEXT:
            text = _text(child)
            if text:
                blocks.append(Block("text", text))
        else:
            _walk(child, blocks)
    flush_loose()


MAX_SPAN = 50  # a colspan or rowspan beyond this is a page's markup gone wrong, not a table's layout


def _span(cell: Tag, name: str) -> int:
    value = str(cell.get(name) or "1").strip()
    return min(int(value), MAX_SPAN) if value.isdigit() and int(value) > 0 else 1


def _table(table: Tag, blocks: list[Block]) -> None:
    """Each row as its cells joined by " | ", laid out on the table's grid so every value sits under its column's
    header: a cell spanning columns is followed by empty ones, a cell spanning rows is repeated in the rows below
    (as Word's merged cells are read). A first row that is one cell across the whole table is a caption, not the
    header. A table nested in a cell is read after its row, as a table of its own."""
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    below: dict[int, tuple[str, int]] = {}  # column -> (text, rows still covered) of a cell spanning rows
    grid: list[list[str]] = []
    nested: list[list[Tag]] = []
    widths: list[int] = []  # a row of one cell: the columns it spans (0 otherwise)
    for tr in rows:
        cells: list[str] = []
        inner: list[Tag] = []
        own = tr.find_all(["th", "td"], recursive=False)
        widths.append(_span(own[0], "colspan") if len(own) == 1 else 0)
        for cell in own:
            while len(cells) in below:
                cells.append(_carry(below, len(cells)))
            here = [t for t in cell.find_all("table") if t.find_parent("table") is table]  # its own, not theirs
            for t in here:
                t.extract()  # read as a table of its own after this row, not as this cell's text
            inner += here
            text, width, height = _text(cell), _span(cell, "colspan"), _span(cell, "rowspan")
            for k in range(width):
                if height > 1:
                    below[len(cells)] = (text if k == 0 else "", height - 1)
                cells.append(text if k == 0 else "")
        while len(cells) in below:
            cells.append(_carry(below, len(cells)))
        grid.append(cells)
        nested.append(inner)
    columns = max((len(cells) for cells in grid), default=0)
    started = False
    for cells, width, inner in zip(grid, widths, nested, strict=True):
        if not started and columns > 1 and width >= columns and cells[0]:
            blocks.append(Block("text", cells[0]))  # "Table 2. Dosing" across the top: the header comes next
        elif any(cells):
            blocks.append(Block("row", " | ".join(cells)))
            started = True
        for t in inner:
            _table(t, blocks)


def _carry(below: dict[int, tuple[str, int]], column: int) -> str:
    text, left = below.pop(column)
    if left > 1:
        below[column] = (text, left - 1)
    return text


def _list(node: Tag, blocks: list[Block]) -> None:
    """One item block per <li> (its own text), then its nested lists."""
    for item in node.find_all("li", recursive=False):
        parts = []
        for c in item.children:
            if isinstance(c, Tag) and c.name in {"ul", "ol"}:
                continue
            parts.append(c.get_text(" ", strip=True) if isinstance(c, Tag) else str(c))
        own = " ".join(" ".join(parts).split())
        if own:
            blocks.append(Block("item", own))
        for sub in item.find_all(["ul", "ol"], recursive=False):
            _list(sub, blocks)


def read_html(path: Path, limits: ReadLimits) -> ParsedDocument:
    text = decode(path.read_bytes())
    if len(text) > HTML_MARKUP_FACTOR * limits.max_text_chars:  # refused before the (slow) parse
        raise ReadError(
            f"the HTML is {len(text):,} characters long, over {HTML_MARKUP_FACTOR}x the "
            f"{limits.max_text_chars:,}-character text limit (SITELINE_MAX_TEXT_CHARS)"
        )
    blocks: list[Block] = []
    try:
        soup = BeautifulSoup(text, "html.parser")
        _walk(soup.body or soup, blocks)
    except RecursionError:  # thousands of nested elements: no page of a study document is built like that
        raise ReadError("the HTML is nested too deeply to read (thousands of elements inside each other)") from None
    if not blocks:
        raise ReadError("no text in the HTML")
    title_tag = soup.find("title")
    title = _text(title_tag) if isinstance(title_tag, Tag) and _text(title_tag) else None
    title = title or next((b.text for b in blocks if b.kind == "heading"), None)
    return ParsedDocument(blocks, title=title)
