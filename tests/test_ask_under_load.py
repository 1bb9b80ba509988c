"""What the ask path does to stay fast under many concurrent asks, and that it changes no answer:
the first-come, first-served gate, the stored-vector cache (dropped whenever the catalog moves), the
coverage shortcut. Speed itself is measured in the bench (bench/ask_load.py), never here."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from core.settings import Settings
from knowledge.embedding import DIMENSIONS, MiniLmEmbeddings
from knowledge.gate import FairGate
from knowledge.scoring import Weighted, coverage
from knowledge.vector_index import VectorIndex, study_filter


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.005)


def test_the_gate_lets_in_at_most_its_slots_and_then_the_longest_waiter_first() -> None:
    gate = FairGate(2)
    inside: list[str] = []
    peak = [0]
    order: list[str] = []
    release = {name: threading.Event() for name in "ABCDE"}
    lock = threading.Lock()

    def caller(name: str) -> None:
        with gate.held():
            with lock:
                order.append(name)
                inside.append(name)
                peak[0] = max(peak[0], len(inside))
            release[name].wait(10)
            with lock:
                inside.remove(name)

    threads = {name: threading.Thread(target=caller, args=(name,)) for name in "ABCDE"}
    threads["A"].start()
    threads["B"].start()
    _until(lambda: len(order) == 2, "A and B inside")
    for name in "CDE":  # arrive one after another while both slots are taken
        threads[name].start()
        _until(lambda n=name: gate.waiting == "CDE".index(n) + 1, f"{name} queued")
    release["B"].set()
    _until(lambda: len(order) == 3, "a waiter let in")
    release["A"].set()
    _until(lambda: len(order) == 4, "the next waiter let in")
    for name in "CDE":
        release[name].set()
    for t in threads.values():
        t.join(10)
    assert order == ["A", "B", "C", "D", "E"]
    assert peak[0] == 2


def test_a_gate_without_slots_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        FairGate(0)
    with pytest.raises(ValidationError, match="SITELINE_ASK_CONCURRENCY"):
        Settings(_env_file=None, SITELINE_ASK_CONCURRENCY=-1)
    assert Settings(_env_file=None).ask_concurrency == 0  # no limit unless asked for


def test_a_sentence_sharing_no_word_with_a_concept_does_not_cover_it_but_an_empty_alternative_always_does() -> None:
    concepts = {
        "store": Weighted([(frozenset({"store"}), 1.0), (frozenset({"keep", "cold"}), 0.8)], 2.0),
        "kit": Weighted([(frozenset({"kit"}), 1.0)], 1.0),
        "site": Weighted([(frozenset({"site"}), 1.0)], 1.0, optional=True),
    }
    both = (pytest.approx((0.8 * 2 + 1) / 3), {"store", "kit"})
    assert coverage(frozenset({"keep", "cold", "kit"}), concepts) == both
    assert coverage(frozenset({"keep", "kit"}), concepts) == (pytest.approx(1 / 3), {"kit"})
    assert coverage(frozenset({"visit"}), concepts) == (0.0, set())
    always = {"any": Weighted([(frozenset(), 0.5)], 1.0)}
    assert coverage(frozenset({"visit"}), always) == (0.5, {"any"})


def _unit(i: int) -> np.ndarray:
    v = np.zeros((1, DIMENSIONS), dtype=np.float32)
    v[0, i] = 1.0
    return v


@pytest.fixture(scope="module")
def embeddings() -> MiniLmEmbeddings:
    return MiniLmEmbeddings()


def test_stored_vectors_are_read_again_when_this_process_rewrites_them_and_kept_across_other_ingests(
    tmp_path: Path, embeddings: MiniLmEmbeddings
) -> None:
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home")
    meta = [{"study": "S", "version_id": 1, "current": True, "doc": "d"}]
    mine = VectorIndex(settings, embeddings)
    mine.ensure_fresh((1, 1, 1))
    mine.add(["v1c0"], ["text"], _unit(0), meta)
    assert np.array_equal(mine.vectors_of(["v1c0", "v9c9"])["v1c0"], _unit(0)[0])
    assert list(mine.vectors_of(["v9c9", "v1c0"])) == ["v1c0"]  # an id Chroma lacks is simply absent

    mine.add(["v1c0"], ["text"], _unit(1), meta)  # written by this process: read again at once
    assert np.array_equal(mine.vectors_of(["v1c0"])["v1c0"], _unit(1)[0])

    other = VectorIndex(settings, embeddings)  # another process ingests a version on the same index
    other.add(["v2c0"], ["text"], _unit(2), [{**meta[0], "version_id": 2}])
    mine._stored["v1c0"] = _unit(3)[0]  # a marker: what this process kept is used, not read again
    mine.ensure_fresh((2, 2, 2))  # the catalog moved; a stored version's chunks did not
    assert np.array_equal(mine.vectors_of(["v1c0"])["v1c0"], _unit(3)[0])
    assert np.array_equal(mine.vectors_of(["v2c0"])["v2c0"], _unit(2)[0])


def test_a_gated_service_answers_as_an_ungated_one(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from siteline.container import build

    doc = tmp_path / "Storage.md"
    doc.write_text("# Storage\n\nKeep the study kits refrigerated between 2 and 8 degrees Celsius.\n", encoding="utf-8")
    answers = []
    for slots in ("1", "0"):
        c = build(Settings(_env_file=None, SITELINE_HOME=tmp_path / f"home-{slots}", SITELINE_ASK_CONCURRENCY=slots))
        try:
            assert (c.knowledge.gate.slots if c.knowledge.gate else 0) == int(slots)
            assert c.knowledge.ingest([doc], study="S", kind="sop", now=datetime.now(UTC), progress=False).ok
            answer = c.knowledge.ask("how are the kits stored?", studies=["S"], asker="t", surface="t", record=False)
            answers.append((answer.answer, [q.quote for q in answer.citations]))
        finally:
            c.engine.dispose()
    assert "between 2 and 8 degrees Celsius" in answers[0][0]
    assert answers[0] == answers[1]


def _random_unit(rows: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((rows, DIMENSIONS)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_the_exact_search_finds_what_chromas_index_finds_inside_the_same_filter(
    tmp_path: Path, embeddings: MiniLmEmbeddings
) -> None:
    index = VectorIndex(Settings(_env_file=None, SITELINE_HOME=tmp_path / "home"), embeddings)
    index.ensure_fresh((1, 1, 1))
    vectors = _random_unit(90, seed=1)
    placed = [("S", 1), ("S", 2), ("T", 3)]  # (study, version): 30 chunks each
    meta = [{"study": s, "version_id": v, "current": True, "doc": "d"} for s, v in placed for _ in range(30)]
    ids = [f"v{v}c{i}" for _, v in placed for i in range(30)]
    index.add(ids, ["text"] * 90, vectors, meta)
    index.load([1, 2, 3])
    query = _random_unit(1, seed=2)[0]
    for studies, versions in ((["S"], [1, 2]), (["S"], [2]), (["S", "T"], [1, 3]), (["S"], [3])):
        exact = index.search(query, studies, 7, version_ids=versions)
        wanted = [i for i, m in zip(ids, meta, strict=True) if m["study"] in studies and m["version_id"] in versions]
        best = sorted(wanted, key=lambda i: -float(vectors[ids.index(i)] @ query))[:7]
        assert [h.chunk_id for h in exact] == best  # in memory: exact, best first, inside study and versions
        assert all(
            h.similarity == pytest.approx(float(vectors[ids.index(h.chunk_id)] @ query), abs=1e-5) for h in exact
        )
        hnsw = index.collection.query(
            query_embeddings=[query], n_results=7, where=study_filter(studies, version_ids=versions)
        )
        assert hnsw["ids"][0] == best  # what Chroma's own index answers on a collection this small


def test_the_exact_search_reads_vectors_again_after_a_write_and_leaves_large_sets_to_chroma(
    tmp_path: Path, embeddings: MiniLmEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home")
    meta = [{"study": "S", "version_id": 1, "current": True, "doc": "d"}]
    mine = VectorIndex(settings, embeddings)
    asked: list[dict] = []
    query = type(mine.collection).query

    def counted(self: object, **kwargs: object) -> dict:
        asked.append(kwargs)
        return query(self, **kwargs)

    monkeypatch.setattr(type(mine.collection), "query", counted)

    def nearest(version: int = 1) -> float:
        return mine.search(_unit(0)[0], ["S"], 1, version_ids=[version])[0].similarity

    mine.ensure_fresh((1, 1, 1))
    mine.add(["v1c0"], ["text"], _unit(0), meta)
    assert nearest() == pytest.approx(1.0, abs=1e-5) and len(asked) == 1  # Chroma answers the first question...
    _until(lambda: 1 in mine._blocks, "the version's vectors read in the background")
    assert nearest() == pytest.approx(1.0) and len(asked) == 1  # ...and the vectors kept in memory the next

    mine.add(["v1c0"], ["text"], _unit(1), meta)  # this process rewrote it: read again
    mine.load([1])
    assert nearest() == pytest.approx(0.0, abs=1e-6)

    monkeypatch.setattr("knowledge.vector_index.EXACT_ROWS", 0)  # too many to keep: Chroma's index answers
    VectorIndex(settings, embeddings).add(["v2c0"], ["text"], _unit(0), [{**meta[0], "version_id": 2}])
    mine.ensure_fresh((2, 2, 1))  # another process ingested a version
    mine.load([2])
    assert 2 not in mine._blocks
    assert nearest(2) == pytest.approx(1.0, abs=1e-5) and len(asked) == 2


def test_vectors_kept_in_memory_outlive_another_studys_ingest_and_the_least_searched_make_room(
    tmp_path: Path, embeddings: MiniLmEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server answering many studies kept each one's vectors until any ingest anywhere, so the first question
    on every study after it searched Chroma's index again (the p95 of asks at 50k chunks). A version's chunks
    never change once stored: only a write to the version itself, or vectors that were incomplete, read again."""
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home")
    mine = VectorIndex(settings, embeddings)
    other = VectorIndex(settings, embeddings)

    def meta(version: int, study: str = "S") -> list[dict]:
        return [{"study": study, "version_id": version, "current": True, "doc": "d"}]

    mine.ensure_fresh((1, 1, 1))
    mine.add(["v1c0"], ["text"], _unit(0), meta(1))
    mine.add(["v2c0", "v2c1"], ["text", "text"], np.concatenate([_unit(0), _unit(1)]), meta(2) * 2)
    mine.expected.update({1: 1, 2: 3})  # version 2 lost a vector: SQL holds three chunks
    mine.load([1, 2])
    kept, short = mine._blocks[1], mine._blocks[2]

    other.add(["v3c0"], ["text"], _unit(1), meta(3, "T"))  # another process ingests another study
    mine.ensure_fresh((2, 3, 2))
    assert mine._blocks.get(1) is kept  # still in memory: no read, no question sent to Chroma's index
    assert 2 not in mine._blocks  # incomplete: a reindex may have filled it since
    mine.load([2])
    assert mine._blocks[2] is not short

    mine.add(["v3c1"], ["text"], _unit(2), meta(3, "T"))  # this process writes to version 3 only
    assert mine._blocks.get(1) is kept

    monkeypatch.setattr("knowledge.vector_index.EXACT_ROWS", 4)  # room for four vectors
    assert mine.search(_unit(0)[0], ["S"], 1, version_ids=[2])[0].chunk_id == "v2c0"  # 2 searched, 1 not
    mine.load([3])  # two more: the least recently searched version makes room
    assert sorted(mine._blocks) == [2, 3]
    assert [h.chunk_id for h in mine.search(_unit(2)[0], ["T"], 1, version_ids=[3])] == ["v3c1"]


def test_many_texts_are_embedded_on_several_threads_with_the_same_vectors_in_the_same_order() -> None:
    texts = [f"visit {i} " + "word " * (i % 13) for i in range(40)]
    one = MiniLmEmbeddings(workers=1).embed(texts)
    several = MiniLmEmbeddings(workers=3).embed(texts)
    assert np.allclose(one, several, atol=1e-6)
    assert np.allclose(several[5], MiniLmEmbeddings().embed([texts[5]])[0], atol=1e-5)


def test_a_started_server_reads_every_studys_vectors_before_the_first_question(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restart, the first question on each study answered from Chroma's filtered index while its vectors
    were read in the background (the slowest asks at 50k chunks); `serve` now reads them at start."""
    from datetime import UTC, datetime

    from siteline.container import build
    from tests.test_knowledge_readers import write_corpus

    first = build(settings)
    folder = write_corpus(tmp_path / "docs")
    first.knowledge.ingest(
        [folder], study="ZX-101", kind="protocol", now=datetime(2025, 3, 3, tzinfo=UTC), progress=False
    )
    first.engine.dispose()

    restarted = build(settings)
    try:
        asked: list[dict] = []
        query = type(restarted.knowledge.vectors.collection).query
        monkeypatch.setattr(
            type(restarted.knowledge.vectors.collection),
            "query",
            lambda self, **kw: asked.append(kw) or query(self, **kw),
        )
        assert restarted.knowledge.warm_up() == 4  # the four documents' current versions
        found = restarted.knowledge.search("SAE reporting timeline?", studies=["ZX-101"])
        assert found and asked == []  # searched in memory: Chroma's index was not asked
    finally:
        restarted.engine.dispose()


def test_a_warm_up_that_fails_is_only_logged(container, caplog: pytest.LogCaptureFixture, monkeypatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("the vector store is still starting")

    monkeypatch.setattr(container.knowledge.vectors, "load", broken)
    with caplog.at_level("WARNING", logger="siteline.knowledge"):
        assert container.knowledge.warm_up() == 0
    assert any("could not read the indexes into memory at start" in r.getMessage() for r in caplog.records)


def test_the_vector_store_holds_vectors_not_the_documents_text(container, tmp_path: Path) -> None:
    """The product reads chunk text from SQL; Chroma's copy cost half of each upsert (it indexes documents for
    full-text search) and was a second store of the documents' text. A LangChain retriever's own index keeps it."""
    from datetime import UTC, datetime

    from tests.test_knowledge_readers import write_corpus

    folder = write_corpus(tmp_path / "docs")
    assert container.knowledge.ingest(
        [folder], study="ZX-101", kind="protocol", now=datetime.now(UTC), progress=False
    ).ok
    held = container.knowledge.vectors.collection.get(include=["documents", "metadatas"])
    assert held["ids"] and all(d is None for d in held["documents"])
    assert container.knowledge.search("SAE reporting timeline?", studies=["ZX-101"]).passages  # answered from SQL

    retriever = VectorIndex(container.settings, MiniLmEmbeddings(), collection="langchain_view", keep_texts=True)
    retriever.add(["v1c0"], ["Kits are stored at 2 to 8 °C."], _unit(0), [{"study": "S", "version_id": 1}])
    assert retriever.collection.get(include=["documents"])["documents"] == ["Kits are stored at 2 to 8 °C."]
