"""What every reader produces: a document as an ordered list of blocks, each on a known page.

A block is the smallest unit the chunker may not cut: a heading, a paragraph (or sentence run),
one list item with its continuation lines, or one table row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "text", "item", "row"]


@dataclass
class Block:
    kind: BlockKind
    text: str
    page: int | None = None
    section: str = ""  # for headings: the full section label, e.g. "6.1.5 Serious Adverse Event Reporting"


@dataclass
class ParsedDocument:
    blocks: list[Block] = field(default_factory=list)
    title: str | None = None
    pages: int | None = None


class ReadError(ValueError):
    """A file that cannot be ingested; the message is the reason shown next to the file name."""
