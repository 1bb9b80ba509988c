"""Size limits on what a document unpacks to, checked before the expensive parse.

`SITELINE_MAX_FILE_MB` bounds the file on disk, but a 0.5 MB DOCX can unpack to 200 MB of XML
(a zip bomb) and a PDF's compressed streams can hold far more text than their size suggests.
A DOCX's zip directory declares every member's size, and Python's zipfile never yields more than
the declared size (a lying member fails its CRC), so the declared sizes are checked first; the
text every reader extracts is then counted against a per-document cap as it is produced.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from knowledge.readers.blocks import ReadError

MB = 1024 * 1024
BOMB_RATIO = 200  # typical DOCX XML compresses 5-20x; a member over 1 MB beyond this is built to explode
BOMB_MIN_BYTES = 1 * MB


@dataclass(frozen=True)
class ReadLimits:
    max_unpacked_bytes: int = 100 * MB
    max_text_chars: int = 10_000_000

    def check_text(self, chars: int) -> None:
        """Refuse a document once its extracted text passes the cap (call as text accumulates)."""
        if chars > self.max_text_chars:
            raise ReadError(
                f"the document has more than {self.max_text_chars:,} characters of text "
                "(SITELINE_MAX_TEXT_CHARS); split it or raise the limit"
            )


def check_zip(path: Path, limits: ReadLimits) -> None:
    """Refuse a zip container (DOCX) whose members would unpack too large, reading only its directory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ReadError(f"not a readable DOCX ({type(exc).__name__}: {str(exc)[:120]})") from None
    total = sum(m.file_size for m in members)
    biggest = max(members, key=lambda m: m.file_size, default=None)
    if biggest is None:
        raise ReadError("not a readable DOCX (an empty zip archive)")
    ratio = biggest.file_size / max(biggest.compress_size, 1)
    if total > limits.max_unpacked_bytes:
        raise ReadError(
            f"unpacks to {total / MB:.1f} MB ({biggest.filename} alone {biggest.file_size / MB:.1f} MB, "
            f"{ratio:.0f}x compressed), over the {limits.max_unpacked_bytes // MB} MB limit "
            "(SITELINE_MAX_UNPACKED_MB)"
        )
    for m in members:
        r = m.file_size / max(m.compress_size, 1)
        if m.file_size > BOMB_MIN_BYTES and r > BOMB_RATIO:
            raise ReadError(
                f"{m.filename} is compressed {r:.0f}x ({m.compress_size / MB:.2f} MB unpacking to "
                f"{m.file_size / MB:.1f} MB): refused as a zip bomb"
            )
