"""Issue 11: one embedding model per process. Knowledge, triage's urgent examples, escalation's
category examples and the dashboard's clusters all embed with the container's one MiniLM session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from escalation import classifier
from knowledge import embedding, reader
from siteline.container import Container
from triage import semantic


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every MiniLM session built from here on, with the process-wide caches emptied first."""
    made: list[object] = []
    original = embedding.MiniLmEmbeddings.__init__

    def init(self: embedding.MiniLmEmbeddings, *args: object, **kwargs: object) -> None:
        made.append(args[0] if args else kwargs.get("model_path"))
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(embedding.MiniLmEmbeddings, "__init__", init)
    monkeypatch.setattr(embedding, "_shared", [])
    monkeypatch.setattr(reader, "_shared", [])
    monkeypatch.setattr(semantic, "_state", {})
    monkeypatch.setattr(classifier, "_state", {})
    yield made


def test_knowledge_triage_and_escalation_share_one_model(container: Container, counted: list[object]) -> None:
    vectors = container.knowledge.embeddings
    urgent = semantic.default_exemplars()
    categories = classifier.default_classifier()
    assert urgent is not None and categories is not None
    assert container.embeddings is vectors
    assert urgent._embedder is vectors and categories._embedder is vectors
    # The stock model once, and the fine-tuned reader once (its index view shares its session: Reader.passages).
    assert sorted(map(str, counted)) == sorted(["None", str(reader.READER_FILE)])
