"""From lines of text (with their page) to blocks: headings, paragraphs, list items, table rows.

Used for PDF text, plain text and Markdown, which all arrive as lines. Running headers and footers
("Page 12 of 74", the protocol number on every page) are removed first, so they neither split
paragraphs nor pollute the keyword index; table-of-contents lines are dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from itertools import pairwise

from knowledge.readers.blocks import Block
from knowledge.readers.headings import RULE, Heading, find_headings, has_leaders, toc_line

ITEM = re.compile(r"^(?:[•●○▪■◦□➢►✓\-–*]|\(?\d{1,2}[.)]|\[\s?\d{1,2}\]|\(?[a-zA-Z][.)]|\(?[ivx]{1,4}\))\s+\S")
BULLET_ONLY = re.compile(r"^[•●○▪■◦□➢►✓\-–*]$")
MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
MD_ROW = re.compile(r"^\|.*\|$")
MD_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
SENTENCE_END = re.compile(r"[.?!:;][\"”’)\]]*$")
PAGE_NUMBER = re.compile(r"^(?:page\s+)?(\d{1,4})(?:\s+of\s+\d{1,4})?$", re.IGNORECASE)

Line = tuple[str, int | None]  # text, page


def strip_running_lines(pages: list[list[str]], zone: int = 5) -> list[list[str]]:
    """Drop lines that repeat at the top or bottom of many pages (headers, footers, page numbers)."""
    if len(pages) < 3:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split())).lower()

    seen: Counter[str] = Counter()
    for lines in pages:
        edge = [ln for ln in lines if ln.strip()]
        seen.update({key(ln) for ln in edge[:zone] + edge[-3:]})
    running = {k for k, n in seen.items() if k and n >= max(3, 0.4 * len(pages))}
    out = []
    for lines in pages:
        kept, body = [], [i for i, ln in enumerate(lines) if ln.strip()]
        edge = set(body[:zone] + body[-3:])
        for i, ln in enumerate(lines):
            if i in edge and key(ln) in running:
                continue
            kept.append(ln)
        out.append(kept)
    return out


def pages_from_markers(lines: list[str]) -> list[Line] | None:
    """Recover page numbers from text converted from a PDF without form feeds: a line repeated on
    every page (e.g. "Contains Nonbinding Recommendations") followed by a lone page number."""
    stripped = [ln.strip() for ln in lines]
    counts = Counter(s for s in stripped if len(s) >= 8)
    headers = {s for s, n in counts.items() if n >= 3 and n >= len(lines) / 400 and not has_leaders(s)}
    if not headers:
        return None
    markers: dict[int, int] = {}  # line index where a page starts -> its printed number
    drop: set[int] = set()
    for i, s in enumerate(stripped):
        if s not in headers:
            continue
        drop.add(i)
        j, seen = i + 1, 0
        while j < len(lines) and seen < 4:
            if stripped[j]:
                seen += 1
                m = PAGE_NUMBER.match(stripped[j])
                if m:
                    markers[i] = int(m.group(1))
                    drop.add(j)
                    break
            j += 1
    numbers = [markers[i] for i in sorted(markers)]
    rising = sum(1 for a, b in pairwise(numbers) if b > a)
    if len(numbers) < 3 or rising < 0.8 * (len(numbers) - 1):
        return None
    out: list[Line] = []
    page: int | None = None
    for i, ln in enumerate(lines):
        if i in markers:
            page = markers[i]
        if i not in drop:
            out.append((ln, page))
    return out


def _markdown_headings(texts: list[str]) -> list[Heading]:
    found = []
    in_code = False
    for i, t in enumerate(texts):
        if t.strip().startswith("```"):
            in_code = not in_code
        m = None if in_code else MD_HEADING.match(t.strip())
        if m:
            found.append(Heading(i, 1, "", m.group(2).strip()))
    return found


def md_cells(row: str) -> str:
    """A Markdown table row as the other readers write rows: its cells joined by " | ", without the outer
    pipes (an escaped pipe, "\\|", stays inside its cell)."""
    cells = re.split(r"(?<!\\)\|", row.strip()[1:-1])
    return " | ".join(cell.strip() for cell in cells)


def _without_contents(headings: list[Heading], contents: list[bool]) -> dict[int, Heading]:
    """The headings by their line among the lines kept (contents lines dropped), each over the kept lines it spans."""
    kept_before = [0]
    for dropped in contents:
        kept_before.append(kept_before[-1] + (not dropped))
    at: dict[int, Heading] = {}
    for h in headings:
        if contents[h.line]:
            continue
        spans = kept_before[min(h.line + h.consumed, len(contents))] - kept_before[h.line]
        at[kept_before[h.line]] = replace(h, line=kept_before[h.line], consumed=max(spans, 1))
    return at


def blocks_from_lines(lines: list[Line], *, markdown: bool = False) -> list[Block]:
    """Group lines into blocks; a block never starts or ends inside a list item or table row."""
    every = [(t.rstrip(), p) for t, p in lines]
    contents = [toc_line(t) for t, _ in every]
    lines = [line for line, dropped in zip(every, contents, strict=True) if not dropped]
    texts = [t for t, _ in every]
    headings = _markdown_headings(texts) if markdown else []
    if not headings:
        # found with the contents lines still there: a contents entry whose leaders and page wrapped onto the next
        # line is known by that line, and must not take the place of the body's heading of the same number
        headings = find_headings(texts)
    at = _without_contents(headings, contents)
    blocks: list[Block] = []
    current: Block | None = None
    pending_bullet = ""

    def flush() -> None:
        nonlocal current
        if current and current.text.strip():
            blocks.append(current)
        current = None

    i = 0
    while i < len(lines):
        text, page = lines[i]
        s = text.strip()
        if i in at:
            flush()
            h = at[i]
            raw = "\n".join(t.strip() for t, _ in lines[i : i + h.consumed] if t.strip())
            blocks.append(Block("heading", raw, page, section=h.section))
            i += h.consumed
            continue
        i += 1
        if not s or RULE.match(s):  # a rule line ("=====") frames a banner; it says nothing
            flush()
            continue
        if markdown and MD_ROW.match(s):
            flush()
            if not MD_RULE.match(s):
                blocks.append(Block("row", md_cells(s), page))
            continue
        if BULLET_ONLY.match(s):
            flush()
            pending_bullet = s
            continue
        if pending_bullet or ITEM.match(s):
            flush()
            current = Block("item", f"{pending_bullet}\n{s}" if pending_bullet else s, page)
            pending_bullet = ""
            continue
        if current is None:
            current = Block("text", s, page)
        elif current.kind == "text" and SENTENCE_END.search(current.text[-16:]) and (s[0].isupper() or s[0].isdigit()):
            flush()
            current = Block("text", s, page)
        else:
            current.text += "\n" + s
    flush()
    return blocks
