"""Documents that unpack or expand too far (zip bombs, endless text) are refused by name, before the parse."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.readers import ReadError, ReadLimits, read_document
from siteline.container import Container
from tests.test_knowledge_readers import make_pdf

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MB = 1024 * 1024
SENTENCE = "Visits happen every four weeks and the window is three days. "


def docx_with_filler(path: Path, filler_bytes: int, chunk: bytes = SENTENCE.encode()) -> Path:
    """A real DOCX whose one paragraph holds `filler_bytes` of repeated text, streamed (never in memory)."""
    import docx

    buf = io.BytesIO()
    doc = docx.Document()
    doc.add_paragraph("MARKER")
    doc.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != "word/document.xml":
                dst.writestr(info, data)
                continue
            head, tail = data.split(b"MARKER")
            with dst.open("word/document.xml", "w", force_zip64=True) as out:
                out.write(head)
                block = chunk * (MB // len(chunk))
                for _ in range(filler_bytes // len(block)):
                    out.write(block)
                out.write(tail)
    return path


def test_a_small_docx_that_unpacks_to_150_mb_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = docx_with_filler(tmp_path / "Bomb.docx", 150 * MB)
    assert bomb.stat().st_size < 2 * MB
    import docx

    monkeypatch.setattr(docx, "Document", lambda *_: pytest.fail("the DOCX was parsed"))
    with pytest.raises(ReadError) as refused:
        read_document(bomb)
    reason = str(refused.value)
    assert re.match(r"unpacks to 150\.\d MB \(word/document.xml alone 150.0 MB, \d+x compressed\)", reason)
    assert "over the 100 MB limit (SITELINE_MAX_UNPACKED_MB)" in reason


def test_a_member_compressed_beyond_any_real_document_is_refused_as_a_bomb(tmp_path: Path) -> None:
    bomb = docx_with_filler(tmp_path / "Zeros.docx", 20 * MB, chunk=b" " * 4096)
    with pytest.raises(ReadError, match=r"word/document.xml is compressed \d+x .* refused as a zip bomb"):
        read_document(bomb)


def _html(text: str) -> str:
    return f"<html><body><h1>Visits</h1><p>{text}</p></body></html>"


@pytest.mark.parametrize("name", ["Long.md", "Long.txt", "Long.html", "Long.pdf", "Long.docx"])
def test_the_text_cap_applies_to_every_format(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    text = SENTENCE * 80  # ~4,900 characters
    if name.endswith(".html"):
        path.write_text(_html(text), encoding="utf-8")
    elif name.endswith(".pdf"):
        path.write_bytes(make_pdf([[SENTENCE] * 40, [SENTENCE] * 40]))
    elif name.endswith(".docx"):
        import docx

        doc = docx.Document()
        doc.add_paragraph(text)
        doc.save(str(path))
    else:
        path.write_text(text, encoding="utf-8")
    assert read_document(path).blocks  # within the default limits it reads
    with pytest.raises(ReadError, match="more than 2,000 characters of text \\(SITELINE_MAX_TEXT_CHARS\\)"):
        read_document(path, ReadLimits(max_text_chars=2000))


def test_huge_html_is_refused_before_the_parse(tmp_path: Path) -> None:
    path = tmp_path / "Huge.html"
    path.write_text(_html("<span>x</span>" * 2000), encoding="utf-8")
    with pytest.raises(ReadError, match=r"the HTML is [\d,]+ characters long, over 4x the 2,000-character"):
        read_document(path, ReadLimits(max_text_chars=2000))


def test_ingest_refuses_by_name_with_the_settings_and_ingests_the_rest(container: Container, tmp_path: Path) -> None:
    settings = container.knowledge.settings
    settings.max_unpacked_mb, settings.max_text_chars = 1, 3000
    docs = tmp_path / "docs"
    docs.mkdir()
    docx_with_filler(docs / "Manual.docx", 2 * MB)
    (docs / "Notes.md").write_text("# Notes\n\n" + SENTENCE * 80, encoding="utf-8")
    (docs / "Visits.md").write_text("# Visits\n\n" + SENTENCE, encoding="utf-8")
    report = container.knowledge.ingest([docs], study="S", kind="other", now=NOW, progress=False)
    outcome = {o.path.name: o for o in report.outcomes}
    assert outcome["Manual.docx"].status == "failed"
    assert "over the 1 MB limit (SITELINE_MAX_UNPACKED_MB)" in outcome["Manual.docx"].detail
    assert outcome["Notes.md"].status == "failed"
    assert "more than 3,000 characters of text (SITELINE_MAX_TEXT_CHARS)" in outcome["Notes.md"].detail
    assert outcome["Visits.md"].status == "ingested"


def pdf_with_flate_bomb(path: Path, spaces: int) -> Path:
    """A one-page PDF whose content stream is `spaces` blanks after the text, deflated (compressed in steps)."""
    packer = zlib.compressobj(9)
    parts = [packer.compress(b"BT /F1 10 Tf 50 780 Td (Hello) Tj ET\n")]
    block = b" " * MB
    parts.extend(packer.compress(block) for _ in range(spaces // MB))
    parts.append(packer.flush())
    stream = b"".join(parts)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_a_pdf_stream_that_unpacks_past_the_limit_is_a_clear_refusal(tmp_path: Path) -> None:
    bomb = pdf_with_flate_bomb(tmp_path / "Bomb.pdf", 80 * MB)
    assert bomb.stat().st_size < MB
    with pytest.raises(
        ReadError, match=r"unpack past the 64 MB limit \(SITELINE_MAX_UNPACKED_MB\).*decompression bomb"
    ):
        read_document(bomb, ReadLimits(max_unpacked_bytes=64 * MB))
    assert read_document(bomb, ReadLimits(max_unpacked_bytes=100 * MB)).blocks[0].text == "Hello"


def test_the_bomb_check_inflates_in_steps_and_stops_at_the_limit(tmp_path: Path) -> None:
    """The check never holds more than one step of the inflated stream, and stops counting at the limit:
    a stream of 400 MB of blanks (0.4 MB on disk) is counted to just past the 100 MB limit."""
    from knowledge.readers.pdf_streams import check_streams

    bomb = pdf_with_flate_bomb(tmp_path / "Big.pdf", 400 * MB)
    check = check_streams(bomb.read_bytes(), 100 * MB)
    assert check.over_limit and 100 * MB < check.unpacked <= 102 * MB
    with pytest.raises(ReadError, match="decompression bomb"):
        read_document(bomb)
