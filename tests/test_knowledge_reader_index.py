"""The reader makes the index (session 25): chunks embedded by the fine-tuned reader into a collection named
after its file, questions embedded by it alone; an install whose index another model made fills the new one."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from knowledge import reader as reader_module
from knowledge.catalog import embedding_text
from knowledge.embedding import shared_embeddings
from knowledge.models import ChunkRow
from knowledge.reader import Reader, index_tag, shared_reader
from knowledge.service import collection_name
from knowledge.vector_index import COLLECTION
from siteline.container import Container
from tests.test_knowledge_readers import write_corpus

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
QUESTION = "SAE reporting timeline?"


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_index_holds_the_readers_vectors_in_the_readers_own_collection(
    container: Container, tmp_path: Path
) -> None:
    reader = shared_reader()
    assert reader is not None
    assert container.knowledge.ingest(
        [write_corpus(tmp_path / "docs")], study="ZX", kind="sop", now=NOW, progress=False
    ).ok
    vectors = container.knowledge.vectors
    assert vectors.name == collection_name() == f"{COLLECTION}_{reader.index_tag}" != COLLECTION
    with container.factory() as s:
        row = s.query(ChunkRow).filter(ChunkRow.text.contains("24 hours")).first()
        assert row is not None
        text = embedding_text(row.section, row.text)
    stored = vectors.vectors_of([row.id])[row.id]
    by_reader = reader.passages.embed([text])[0]
    by_stock = shared_embeddings().embed([text])[0]
    assert _cos(stored, by_reader) > 0.9999  # each chunk embedded alone: what reindex would store again
    assert _cos(stored, by_stock) < 0.95  # and not the stock model's vector

    found = container.knowledge.search(QUESTION, studies=["ZX"], k=5)
    assert np.allclose(found.reader_vector, reader.question(QUESTION))  # the question embedded once, by the reader
    assert "24 hours" in container.knowledge.ask(QUESTION, studies=["ZX"], asker="t", surface="t", record=False).answer


def test_two_reader_files_never_share_a_collection(tmp_path: Path) -> None:
    shipped = reader_module.READER_FILE
    copy = tmp_path / "reader.onnx"
    copy.write_bytes(shipped.read_bytes())
    assert index_tag(copy) == index_tag(shipped)  # the same model: the same vectors, the same collection
    other = tmp_path / "other.onnx"
    other.write_bytes(shipped.read_bytes() + b"\0")
    assert index_tag(other) != index_tag(shipped)
    assert Reader(copy).index_tag == index_tag(shipped)


def test_an_index_made_by_the_stock_model_is_filled_for_the_reader_on_the_next_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The upgrade a running install meets: its chunks were embedded by the stock model into the old collection;
    the reader's collection is empty, answers fall back to keywords, `serve` says so, and ingesting the same
    files again (or `siteline reindex`) embeds them for the reader."""
    from siteline.cli import app
    from siteline.cli.common import container
    from siteline.cli.serve import _say_if_index_incomplete

    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SITELINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    runner = CliRunner()
    folder = write_corpus(tmp_path / "docs")
    with monkeypatch.context() as old_release:
        old_release.setattr(reader_module, "READER_FILE", Path("/nonexistent/reader.onnx"))
        old_release.setattr(reader_module, "_shared", [])
        assert runner.invoke(app, ["ingest", str(folder), "--study", "ZX", "--kind", "protocol"]).exit_code == 0
        old = container()
        assert old.knowledge.vectors.name == COLLECTION
        chunks = old.knowledge.vectors.count()
        assert chunks > 0
        old.engine.dispose()

    upgraded = container()
    assert upgraded.knowledge.vectors.name != COLLECTION and upgraded.knowledge.vectors.count() == 0
    with caplog.at_level(logging.WARNING, logger="siteline.serve"):
        _say_if_index_incomplete(upgraded)
    assert f"holds 0 vectors for {chunks} stored chunks" in caplog.text and "siteline reindex" in caplog.text
    upgraded.engine.dispose()

    again = runner.invoke(app, ["ingest", str(folder), "--study", "ZX", "--kind", "protocol"])
    assert again.exit_code == 0 and f"{chunks} stored chunks had no vector in the index" in again.output
    c = container()
    assert c.knowledge.vectors.count() == chunks
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="siteline.serve"):
        _say_if_index_incomplete(c)
    assert "stored chunks" not in caplog.text
    answer = json.loads(runner.invoke(app, ["ask", QUESTION, "--study", "ZX", "--json"]).output)
    assert "24 hours" in answer["answer"] and answer["citations"]
    c.engine.dispose()


def test_the_demo_prepared_by_an_older_release_fills_the_readers_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.settings import Settings
    from siteline import demo
    from siteline.container import build

    settings = Settings(
        SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}", _env_file=None
    )
    with monkeypatch.context() as old_release:
        old_release.setattr(reader_module, "READER_FILE", Path("/nonexistent/reader.onnx"))
        old_release.setattr(reader_module, "_shared", [])
        old = build(settings)
        assert demo.prepare(old, now=NOW).ingested
        held = old.knowledge.vectors.count()
        old.engine.dispose()
    c = build(settings)
    report = demo.prepare(c, now=NOW)
    assert not report.ingested and report.vectors_restored == held == c.knowledge.vectors.count()
    assert demo.prepare(c, now=NOW).vectors_restored == 0  # complete: nothing more to do
    c.engine.dispose()
