"""Section-aware chunking: blocks packed into passages that never cross a section heading.

Each chunk belongs to exactly one section (so a quote's section is the chunk's), starts with its
heading when it opens the section, and records on which page each of its blocks starts (so a
quote's page is exact even when a chunk crosses a page break). Blocks are never cut, except a
paragraph or list item longer than a whole chunk, which is split between sentences; table rows
are never split.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.readers.blocks import Block
from knowledge.readers.headings import QUESTION_CHARS  # a block this short ending in "?" is a question
from knowledge.sentences import is_question, sentence_spans

TARGET_CHARS = 900  # ~200 MiniLM tokens: the whole chunk fits the model's 256-token window
MAX_BLOCK_CHARS = 1200


@dataclass
class Chunk:
    ordinal: int
    section: str
    text: str
    page_map: list[tuple[int, int]] = field(default_factory=list)  # (char offset, page) where pages change

    @property
    def page(self) -> int | None:
        return self.page_map[0][1] if self.page_map else None

    @property
    def page_end(self) -> int | None:
        return self.page_map[-1][1] if self.page_map else None


def page_at(page_map: list[tuple[int, int]] | list[list[int]], offset: int) -> int | None:
    """The page on which the character at `offset` of a chunk is printed."""
    page = None
    for start, number in page_map:
        if start > offset:
            break
        page = number
    return page if page is not None else (page_map[0][1] if page_map else None)


def _cut(block: Block, ends: list[int]) -> list[Block]:
    """Pieces of about TARGET_CHARS, cut only at the given end offsets."""
    pieces: list[Block] = []
    start = 0
    for i, end in enumerate(ends):
        nxt = ends[i + 1] if i + 1 < len(ends) else None
        if nxt is None or nxt - start > TARGET_CHARS:
            pieces.append(Block(block.kind, block.text[start:end].strip(), block.page))
            start = end
    return [p for p in pieces if p.text]


def _split_long(block: Block) -> list[Block]:
    """Cut an over-long paragraph or item between sentences, else between lines (rows are kept whole)."""
    if block.kind == "row" or len(block.text) <= MAX_BLOCK_CHARS:
        return [block]
    out: list[Block] = []
    for piece in _cut(block, [end for _, end in sentence_spans(block.text)]):
        if len(piece.text) <= MAX_BLOCK_CHARS:
            out.append(piece)
            continue
        breaks = [i for i, ch in enumerate(piece.text) if ch == "\n"] + [len(piece.text)]
        out.extend(_cut(piece, breaks))
    return out


def chunk_blocks(blocks: list[Block]) -> list[Chunk]:
    chunks: list[Chunk] = []
    section = ""
    parts: list[Block] = []
    headings: list[Block] = []

    def flush() -> None:
        if not parts:
            return
        text, page_map, last_page = "", [], None
        for part in parts:
            if text:
                text += "\n\n"  # a blank line between blocks: sentences never run across them
            if part.page is not None and part.page != last_page:
                page_map.append((len(text), part.page))
                last_page = part.page
            text += part.text
        chunks.append(Chunk(len(chunks), section, text, page_map))
        parts.clear()

    header: Block | None = None  # the first row of the table being read (None outside a table): its columns' names
    for block in blocks:
        if block.kind != "row":
            header = None
        elif header is None:
            header = block
        if block.kind == "heading":
            flush()
            section = block.section or " ".join(block.text.split())
            headings.append(block)
            continue
        for piece in _split_long(block):
            size = sum(len(p.text) + 1 for p in parts)
            if parts and size + len(piece.text) > TARGET_CHARS and not _is_heading_only(parts):
                asked = parts.pop() if _is_question(parts[-1]) and not _is_heading_only(parts[:-1]) else None
                flush()
                if asked is not None:  # an FAQ's question goes with its answer, not at the end of the last chunk
                    parts.append(asked)
                if header is not None and piece is not header:  # the table goes on: its rows need their columns
                    parts.append(Block("row", header.text, piece.page))
            if headings:
                parts.extend(headings)
                headings.clear()
            parts.append(piece)
    flush()
    return chunks


def _is_question(block: Block) -> bool:
    """A short block that is a document's own question: it says nothing without the block after it."""
    return block.kind != "row" and len(block.text) <= QUESTION_CHARS and is_question(block.text)


def _is_heading_only(parts: list[Block]) -> bool:
    return all(p.kind == "heading" for p in parts)
