"""What a PDF's compressed streams unpack to, bounded, before PDFium parses anything.

PDFium (the fast reader) has no cap of its own: a 1 MB file whose content stream inflates to
gigabytes of blanks would take that much memory. Every stream is found by its `stream` keyword and
inflated with zlib (C, ~20 ms for a 3 MB protocol) up to the limit, never further. Images are
skipped: PDFium does not decode them to extract text. Two kinds of file are left to pypdf, whose
filters carry their own limits: encrypted ones (their streams cannot be inflated before decryption)
and those whose text streams use LZW or RunLength (old encoders; no cheap bound).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

STREAM = re.compile(rb">>\s*stream\r?\n")
ENCRYPT = re.compile(rb"/Encrypt\b")
UNBOUNDED_FILTERS = (b"/LZWDecode", b"/LZW", b"/RunLengthDecode", b"/RL")
FILTER_BY_REFERENCE = re.compile(rb"/Filter\s*\[?\s*\d+\s+\d+\s+R")  # the filter's name is elsewhere
DICT_LOOKBACK = 4096  # a stream's dictionary ends right before `stream`; its start is within this
STEP = 1 << 20  # inflate in 1 MB steps: memory stays bounded whatever the ratio


@dataclass(frozen=True)
class StreamCheck:
    unpacked: int  # bytes the text-bearing streams inflate to (stops counting past the limit)
    over_limit: bool
    needs_pypdf: str | None  # why PDFium cannot be checked safely for this file, else None


def check_streams(data: bytes, limit: int) -> StreamCheck:
    """Inflate every non-image stream up to `limit` bytes in total; say when PDFium is not safe to use."""
    if ENCRYPT.search(data):
        return StreamCheck(0, False, "encrypted")
    total = 0
    for match in STREAM.finditer(data):
        head = data[max(0, match.start() - DICT_LOOKBACK) : match.start()]
        start = head.rfind(b"obj")
        dictionary = head[start:] if start >= 0 else head
        if b"/Image" in dictionary:
            continue
        if any(f in dictionary for f in UNBOUNDED_FILTERS) or FILTER_BY_REFERENCE.search(dictionary):
            return StreamCheck(total, False, "streams with LZW, RunLength or indirect filters")
        end = data.find(b"endstream", match.end())
        body = memoryview(data)[match.end() : end if end > 0 else len(data)]
        total += _unpacked(body, limit - total + 1)
        if total > limit:
            return StreamCheck(total, True, None)
    return StreamCheck(total, False, None)


def _unpacked(body: memoryview, budget: int) -> int:
    """Bytes `body` inflates to (counting no further than `budget`), or its own length if it is not
    zlib data (uncompressed, ASCIIHex/85: no bomb). A stream damaged part-way counts what came out
    before the damage, which is what PDFium would get from it too."""
    inflater = zlib.decompressobj()
    produced = 0
    try:
        produced = len(inflater.decompress(body, STEP))
        while inflater.unconsumed_tail and produced <= budget:
            chunk = inflater.decompress(inflater.unconsumed_tail, STEP)
            if not chunk:
                break
            produced += len(chunk)
    except zlib.error:
        return produced + STEP if produced else len(body)
    return produced
