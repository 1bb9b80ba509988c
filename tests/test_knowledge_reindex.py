"""`siteline reindex`: the vector index rebuilt from the stored chunks, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from core.models import AuditRow
from knowledge.catalog import versions_for
from knowledge.models import ChunkRow
from siteline.container import Container
from tests.test_knowledge_readers import write_corpus

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
QUESTION = "SAE reporting timeline?"


def _chunk_count(container: Container) -> int:
    with container.factory() as s:
        return s.scalar(select(func.count()).select_from(ChunkRow)) or 0


def test_a_deleted_vector_index_comes_back_from_the_stored_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siteline.cli import app

    home = tmp_path / "home"
    monkeypatch.setenv("SITELINE_HOME", str(home))
    monkeypatch.delenv("SITELINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    runner = CliRunner()
    folder = write_corpus(tmp_path / "docs")
    assert runner.invoke(app, ["ingest", str(folder), "--study", "ZX-101", "--kind", "protocol"]).exit_code == 0
    before = json.loads(runner.invoke(app, ["ask", QUESTION, "--study", "ZX-101", "--json"]).output)
    assert "24 hours" in before["answer"]

    shutil.rmtree(home / "index" / "chroma")  # what docs/knowledge.md says to do with a damaged store
    result = runner.invoke(app, ["reindex"])
    assert result.exit_code == 0, result.output
    from siteline.cli.common import container

    c = container()
    chunks = _chunk_count(c)
    assert f"study ZX-101: {chunks} chunks stored; {chunks} embedded again, 0 stray vectors removed" in result.output
    assert c.knowledge.vectors.count() == chunks
    after = json.loads(runner.invoke(app, ["ask", QUESTION, "--study", "ZX-101", "--json"]).output)
    assert after["answer"] == before["answer"] and after["citations"] == before["citations"]

    result = runner.invoke(app, ["reindex", "--study", "ZX-101"])  # nothing left to do
    assert f"{chunks} chunks stored; 0 embedded again, 0 stray vectors removed, 0 version flags corrected" in (
        result.output
    )
    shutil.rmtree(home / "index" / "chroma")  # ingesting the same files again restores them too
    again = runner.invoke(app, ["ingest", str(folder), "--study", "ZX-101", "--kind", "protocol"])
    assert "4 unchanged" in again.output and f"{chunks} stored chunks had no vector in the index" in again.output
    assert container().knowledge.vectors.count() == chunks
    with c.factory() as s:
        details = [
            a.detail for a in s.execute(select(AuditRow).where(AuditRow.action == "knowledge.reindex")).scalars()
        ]
    assert [d["embedded"] for d in details] == [chunks, 0, chunks]  # the ingest's repair is on the record too


def test_an_unknown_study_is_named_and_nothing_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from siteline.cli import app

    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SITELINE_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(app, ["reindex"])
    assert result.exit_code == 1 and "no documents have been ingested" in result.output
    folder = write_corpus(tmp_path / "docs")
    runner.invoke(app, ["ingest", str(folder), "--study", "ZX-101", "--kind", "protocol"])
    result = runner.invoke(app, ["reindex", "--study", "ZX-102"])
    assert result.exit_code == 1
    assert "no documents are stored for study ZX-102; stored: ZX-101" in result.output


def test_stray_vectors_go_and_wrong_current_flags_are_set_as_sql_says(container: Container, tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "docs")
    container.knowledge.ingest(
        [folder / "ZX101_Protocol.pdf"], study="ZX-101", kind="protocol", now=NOW, progress=False
    )
    vectors = container.knowledge.vectors

    def planted(version_id: int) -> str:
        vector = np.zeros((1, 384), dtype=np.float32)
        vector[0, 0] = 1.0
        meta = {"study": "ZX-101", "version_id": version_id, "doc": "x", "current": True, "section": "", "page": 0}
        vectors.add([f"v{version_id}c999"], ["left behind"], vector, [meta])
        return f"v{version_id}c999"

    with container.factory() as s:
        first_id = versions_for(s, ["ZX-101"])[0].version_id
    # an ingest killed between its vector write and its SQL commit (SQLite may give its id to the next version)...
    killed = planted(first_id + 1)
    container.knowledge.ingest([folder], study="ZX-101", kind="protocol", now=NOW, progress=False)  # ...then others
    with container.factory() as s:
        stored = versions_for(s, ["ZX-101"])
    newest = max(v.version_id for v in stored)
    writing = planted(newest + 1)  # an ingest still writing elsewhere: its vectors come before its SQL rows
    version = stored[0]
    vectors.set_current(version.version_id, False)  # a demotion SQL rolled back
    chunks = _chunk_count(container)
    assert vectors.count() == chunks + 2

    first = container.knowledge.reindex("ZX-101", now=NOW, progress=False)
    assert (first.chunks, first.embedded, first.removed) == (chunks, 0, 1)
    assert first.flags_set == [f"{version.doc_key} {version.version}"]
    held = vectors.stored_metadata("ZX-101")
    assert killed not in held and writing in held
    assert all(m["current"] for m in held.values()) and len(held) == chunks + 1

    second = container.knowledge.reindex("ZX-101", now=NOW, progress=False)
    assert not second.changed

    everything = container.knowledge.reindex("ZX-101", now=NOW, everything=True, progress=False)
    assert everything.embedded == chunks and vectors.count() == chunks + 1
    answer = container.knowledge.ask(QUESTION, studies=["ZX-101"], asker="u", surface="test", record=False)
    assert "24 hours" in answer.answer


def test_ingesting_again_fills_vectors_the_index_lacks(container: Container, tmp_path: Path) -> None:
    """After the index lost vectors (deleted, damaged, restored from an older backup), the same files come back
    `unchanged` and their chunks get their vectors again: what a user tries first works."""
    folder = write_corpus(tmp_path / "docs")
    container.knowledge.ingest([folder], study="ZX-101", kind="protocol", now=NOW, progress=False)
    vectors = container.knowledge.vectors
    held = list(vectors.stored_metadata("ZX-101"))
    vectors.delete(held[:3])
    report = container.knowledge.ingest([folder], study="ZX-101", kind="protocol", now=NOW, progress=False)
    assert {o.status for o in report.outcomes} == {"unchanged"}
    assert report.vectors_restored == 3 and vectors.count() == _chunk_count(container)


def test_a_damaged_index_is_named_with_its_recovery_and_recovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case `reindex` exists for: Chroma's own file overwritten. Every command says what to do in one line
    (no traceback), and doing it brings the answers back."""
    from siteline.cli import app

    home = tmp_path / "home"
    monkeypatch.setenv("SITELINE_HOME", str(home))
    monkeypatch.delenv("SITELINE_DATABASE_URL", raising=False)
    runner = CliRunner()
    folder = write_corpus(tmp_path / "docs")
    assert runner.invoke(app, ["ingest", str(folder), "--study", "ZX-101", "--kind", "protocol"]).exit_code == 0
    (home / "index" / "chroma" / "chroma.sqlite3").write_bytes(b"\x00garbage" * 10_000)
    for command in (["reindex"], ["ask", QUESTION, "--study", "ZX-101"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit | None)
        assert f"the embedded vector index at {home / 'index' / 'chroma'} cannot be used" in result.output
        assert "run `siteline reindex`" in result.output
    shutil.rmtree(home / "index" / "chroma")
    assert runner.invoke(app, ["reindex"]).exit_code == 0
    answer = json.loads(runner.invoke(app, ["ask", QUESTION, "--study", "ZX-101", "--json"]).output)
    assert "24 hours" in answer["answer"]


def test_each_study_once_a_line_as_it_is_done_and_an_interrupt_says_what_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.service import KnowledgeService
    from siteline.cli import app

    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SITELINE_DATABASE_URL", raising=False)
    runner = CliRunner()
    folder = write_corpus(tmp_path / "docs")
    for study in ("AAA", "BBB"):
        runner.invoke(app, ["ingest", str(folder), "--study", study, "--kind", "protocol"])
    result = runner.invoke(app, ["reindex", "--study", "AAA", "--study", " AAA ", "--all"])
    assert result.exit_code == 0 and result.output.count("study AAA:") == 1, result.output
    result = runner.invoke(app, ["reindex", "--study", "A\nB"])
    assert result.exit_code == 2 and "must not hold control characters" in result.output

    real = KnowledgeService.reindex

    def interrupted(self, study, **kwargs):  # Ctrl-C while the second study embeds
        if study == "BBB":
            raise KeyboardInterrupt
        return real(self, study, **kwargs)

    monkeypatch.setattr(KnowledgeService, "reindex", interrupted)
    result = runner.invoke(app, ["reindex", "--all"])
    assert result.exit_code == 130
    assert "study AAA:" in result.output and "interrupted; not finished: BBB" in result.output


def test_a_version_missing_vectors_is_reported_once(
    container: Container, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Answers from an index that lost vectors silently got worse (keywords alone); the operator is told, once
    per version."""
    folder = write_corpus(tmp_path / "docs")
    container.knowledge.ingest([folder], study="ZX-101", kind="protocol", now=NOW, progress=False)
    vectors = container.knowledge.vectors
    held = vectors.stored_metadata("ZX-101")
    lost = list(held)[:2]
    vectors.delete(lost)
    short = {int(held[cid]["version_id"]) for cid in lost}
    with container.factory() as s:
        versions = [v.version_id for v in versions_for(s, ["ZX-101"])]
    with caplog.at_level("WARNING", logger="siteline.knowledge"):
        container.knowledge.search(QUESTION, studies=["ZX-101"])
        vectors.load(versions)
        container.knowledge.search(QUESTION, studies=["ZX-101"])
        vectors.load(versions)
    lines = [r.getMessage() for r in caplog.records if "stored chunks have a vector" in r.getMessage()]
    assert sorted(int(line.split(":")[0].split()[-1]) for line in lines) == sorted(short), lines  # once each
    assert all("until `siteline reindex`" in line for line in lines)
