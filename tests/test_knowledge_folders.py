"""Folder ingest: broken links reported by name, same names in two folders kept apart, a corrupt richest
format falls back to the readable one (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from knowledge.models import DocumentRow
from siteline.container import Container

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def test_folder_ingest_reports_links_keeps_folders_apart_and_falls_back(container: Container, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "a").mkdir(parents=True)
    (docs / "b").mkdir()
    (docs / "a" / "pharmacy.md").write_text("# Pharmacy A\n\nThe pharmacy opens at 8:00 on weekdays.\n")
    (docs / "b" / "pharmacy.md").write_text("# Pharmacy B\n\nThe satellite pharmacy closes at 15:00 on Fridays.\n")
    (docs / "consent.pdf").write_bytes(b"%PDF-1.4 this is not a real PDF")
    (docs / "consent.md").write_text("# Consent\n\nConsent must be signed before any study procedure.\n")
    (docs / "missing.md").symlink_to(tmp_path / "nowhere.md")
    (docs / "a" / "loop").symlink_to(docs, target_is_directory=True)

    report = container.knowledge.ingest([docs], study="S", kind="sop", now=NOW, progress=False)

    by_path = {o.path.relative_to(docs).as_posix(): o for o in report.outcomes}
    assert by_path["missing.md"].status == "failed"
    assert by_path["missing.md"].detail == f"broken symbolic link: its target {tmp_path / 'nowhere.md'} does not exist"
    assert (by_path["a/loop"].status, by_path["a/loop"].detail) == (
        "skipped",
        "a symbolic link to a folder is not followed",
    )
    assert (by_path["a/pharmacy.md"].status, by_path["a/pharmacy.md"].doc) == ("ingested", "a/pharmacy")
    assert (by_path["b/pharmacy.md"].status, by_path["b/pharmacy.md"].doc) == ("ingested", "b/pharmacy")
    assert by_path["consent.pdf"].status == "failed"
    assert by_path["consent.pdf"].detail.startswith("not a readable PDF")
    assert by_path["consent.pdf"].detail.endswith("; consent.md was used instead")
    assert (by_path["consent.md"].status, by_path["consent.md"].doc) == ("ingested", "consent")
    with container.factory() as s:
        assert sorted(s.scalars(select(DocumentRow.doc_key))) == ["a/pharmacy", "b/pharmacy", "consent"]

    ask = container.knowledge.ask
    friday = ask(
        "when does the satellite pharmacy close on fridays?", studies=["S"], asker="u", surface="t", record=False
    )
    assert "15:00" in friday.answer
    consent = ask("when must consent be signed?", studies=["S"], asker="u", surface="t", record=False)
    assert "before any study procedure" in consent.answer

    again = container.knowledge.ingest([docs], study="S", kind="sop", now=NOW, progress=False)
    assert {
        o.path.name: o.status for o in again.outcomes if o.path.suffix == ".md" and o.path.name != "missing.md"
    } == {
        "pharmacy.md": "unchanged",
        "consent.md": "unchanged",
    }
