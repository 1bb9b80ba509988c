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
            for row in child.find_all("tr"):
                cells = [_text(c) for c in row.find_all(["th", "td"])]  # empty ones too: columns line up with the header
                if any(cells):
                    blocks.append(Block("row", " | ".join(cells)))
        elif name in {"ul", "ol"}:
            _list(child, blocks)
        elif name in TEXT:
            text = _text(child)
            if text:
                blocks.append(Block("text", text))
        else:
            _walk(child, blocks)
    flush_loose()


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
