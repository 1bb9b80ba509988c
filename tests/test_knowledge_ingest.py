"""Ingest end to end on SQLite and PostgreSQL: outcomes per file, idempotence, versions, study scoping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from core.models import AuditRow
from knowledge.catalog import versions_for
from knowledge.models import ChunkRow, DocumentRow, DocumentVersionRow
from knowledge.vector_index import study_filter
from siteline.container import Container
from tests.test_knowledge_readers import PROTOCOL_PAGES, encrypted_pdf, make_pdf, write_corpus

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _counts(container: Container) -> tuple[int, int, int]:
    with container.factory() as s:
        return (
            s.scalar(select(func.count()).select_from(DocumentRow)) or 0,
            s.scalar(select(func.count()).select_from(DocumentVersionRow)) or 0,
            s.scalar(select(func.count()).select_from(ChunkRow)) or 0,
        )


def test_bad_files_are_reported_by_name_and_the_others_ingested(container: Container, tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "docs")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n%garbage without objects")
    (folder / "locked.pdf").write_bytes(encrypted_pdf(make_pdf(PROTOCOL_PAGES[:1])))
    (folder / "ZX101_Protocol.txt").write_text("same document as the PDF, as text", encoding="utf-8")
    (folder / "image.png").write_bytes(b"\x89PNG")
    report = container.knowledge.ingest([folder], study="ZX-101", kind="protocol", now=NOW, progress=False)

    by_name = {o.path.name: o for o in report.outcomes}
    assert by_name["empty.txt"].status == "failed" and by_name["empty.txt"].detail == "empty file"
    assert by_name["corrupt.pdf"].status == "failed" and "not a readable PDF" in by_name["corrupt.pdf"].detail
    assert by_name["locked.pdf"].status == "failed" and "encrypted PDF" in by_name["locked.pdf"].detail
    assert by_name["ZX101_Protocol.txt"].status == "skipped"
    assert "alternate format of ZX101_Protocol.pdf" in by_name["ZX101_Protocol.txt"].detail
    assert by_name["image.png"].status == "skipped"
    ingested = sorted(o.path.name for o in report.outcomes if o.status == "ingested")
    assert ingested == [
        "Pharmacy_Hours.html",
        "SOP-7_Drug_Deliveries.md",
        "ZX101_Lab_Manual.docx",
        "ZX101_Protocol.pdf",
    ]
    assert not report.ok and len(report.failed) == 3
    assert by_name["ZX101_Protocol.pdf"].pages == 4

    with container.factory() as s:
        rows = (
            s.execute(
                select(ChunkRow).join(DocumentVersionRow).where(DocumentVersionRow.file_name == "ZX101_Protocol.pdf")
            )
            .scalars()
            .all()
        )
        assert {r.study for r in rows} == {"ZX-101"}
        sae = next(r for r in rows if "24 hours" in r.text)
        assert sae.section == "6.1.5 Serious Adverse Event Reporting" and sae.page == 3
        audit = s.execute(select(AuditRow).where(AuditRow.action == "knowledge.ingest")).scalars().all()
        assert sorted(a.subject for a in audit) == ingested
    assert container.knowledge.vectors.count() == _counts(container)[2]


def test_oversized_file_is_refused_before_reading(container: Container, tmp_path: Path) -> None:
    container.knowledge.settings.max_file_mb = 1
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000, encoding="utf-8")
    small = tmp_path / "small.txt"
    small.write_text("Visits happen every 4 weeks.", encoding="utf-8")
    report = container.knowledge.ingest([big, small], study="S", kind="other", now=NOW, progress=False)
    outcome = {o.path.name: o for o in report.outcomes}
    assert outcome["big.txt"].status == "failed" and "over the 1 MB limit" in outcome["big.txt"].detail
    assert outcome["small.txt"].status == "ingested"


def test_reingest_is_a_no_op_and_a_new_version_supersedes(container: Container, tmp_path: Path) -> None:
    knowledge = container.knowledge
    doc = tmp_path / "Visit_Guide.md"
    doc.write_text("# 2 Visits\n\nThe screening window is at most 21 days.\n", encoding="utf-8")
    first = knowledge.ingest([doc], study="ZX-101", kind="manual", now=NOW, progress=False)
    assert [o.status for o in first.outcomes] == ["ingested"]
    counts = _counts(container)
    again = knowledge.ingest([doc], study="ZX-101", kind="manual", now=NOW, progress=False)
    assert [(o.status, o.detail) for o in again.outcomes] == [("unchanged", "already ingested as version 1")]
    assert _counts(container) == counts

    doc.write_text("# 2 Visits\n\nThe screening window is at most 28 days.\n", encoding="utf-8")
    clash = knowledge.ingest([doc], study="ZX-101", kind="manual", version="1", now=NOW, progress=False)
    assert (
        clash.outcomes[0].status == "failed" and "already ingested with different content" in clash.outcomes[0].detail
    )
    newer = knowledge.ingest([doc], study="ZX-101", kind="manual", version="2.0", now=NOW, progress=False)
    assert newer.outcomes[0].status == "superseded" and "supersedes version 1" in newer.outcomes[0].detail

    now_text = knowledge.ask(
        "how long is the screening window?", studies=["ZX-101"], asker="t", surface="test", now=NOW
    )
    assert "28 days" in now_text.answer and now_text.citations[0].version == "2.0"
    old = knowledge.ask(
        "how long is the screening window?", studies=["ZX-101"], asker="t", surface="test", now=NOW, version="1"
    )
    assert "21 days" in old.answer and old.citations[0].version == "1"
    with container.factory() as s:
        versions = {v.version: v.is_current for v in versions_for(s, ["ZX-101"])}
    assert versions == {"1": False, "2.0": True}
    current = knowledge.vectors.collection.get(where=study_filter(["ZX-101"]), include=["metadatas"])
    assert {m["version_id"] for m in current["metadatas"]} == {
        v.version_id for v in knowledge.document_versions(["ZX-101"]) if v.is_current
    }


def test_a_question_on_study_b_never_sees_study_a(container: Container, tmp_path: Path) -> None:
    knowledge = container.knowledge
    a = tmp_path / "a" / "Cold_Chain.md"
    a.parent.mkdir()
    a.write_text("# Storage\n\nKeep the vials of study A frozen at minus 20 degrees.\n", encoding="utf-8")
    b = tmp_path / "b" / "Visits.md"
    b.parent.mkdir()
    b.write_text("# Visits\n\nParticipants of study B come every 2 weeks.\n", encoding="utf-8")
    knowledge.ingest([a], study="A", kind="sop", now=NOW, progress=False)
    knowledge.ingest([b], study="B", kind="sop", now=NOW, progress=False)

    found = knowledge.search("how cold must the vials be stored frozen", studies=["B"], k=10)
    assert found.candidates and all(c.version.study == "B" for c in found.candidates)
    assert all(p.study == "B" for p in found.passages)
    # each index on its own: the keyword index of B does not know A's words, the vector filter excludes A
    with container.factory() as s:
        versions_b = versions_for(s, ["B"])
    assert all(v.study == "B" for v in versions_b)
    vector_hits = knowledge.vectors.search(found.query_vector, ["B"], 10)
    assert vector_hits and {h.version_id for h in vector_hits} == {versions_b[0].version_id}
    question = "at what temperature are the vials stored?"
    answer = knowledge.ask(question, studies=["B"], asker="t", surface="test", now=NOW)
    assert answer.abstained and "frozen" not in answer.answer
    both = knowledge.ask(question, studies=["A", "B"], asker="t", surface="test", now=NOW)
    assert not both.abstained and both.citations[0].doc == "Cold_Chain.md"


def test_ingest_leaves_the_keyword_index_built_and_embeds_no_question(
    container: Container, tmp_path: Path, monkeypatch
) -> None:
    """The first question after an ingest finds the study's keyword index ready; building it embedded nothing."""
    folder = write_corpus(tmp_path / "docs")
    embeddings = container.knowledge.vectors.embeddings
    calls: list[int] = []
    real_embed = embeddings.embed
    monkeypatch.setattr(embeddings, "embed", lambda texts, **kw: calls.append(len(texts)) or real_embed(texts, **kw))
    report = container.knowledge.ingest([folder], study="S1", kind="protocol", now=NOW, progress=False)
    assert report.ok
    chunks = _counts(container)[2]
    assert sum(calls) == chunks  # the chunks, once each; no warm-up question
    keyword = container.knowledge.retriever.keyword

    def no_rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("the keyword index was rebuilt on the first question")

    monkeypatch.setattr(keyword, "_build", no_rebuild)
    answer = container.knowledge.ask(
        "How long is the visit window?", studies=["S1"], asker="u", surface="cli", record=False
    )
    assert answer.citations
