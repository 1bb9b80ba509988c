"""Rebuild the vector index from the stored chunks: SQL is the record, the vectors a copy made from it.

Ingest trusts SQL: a file whose bytes are stored comes back `unchanged`, so vectors lost with a damaged
`index/chroma` (or a Chroma server restored from an older backup) never came back by ingesting again. This
compares each study's stored chunks with what the vector index holds and makes the index match: chunks
without a vector are embedded again (from the same text ingest embeds), vectors of versions SQL does not
have are removed (left by an ingest killed between its two writes), and a version's `current` flag is set
to what SQL says (`reindex_study`, then `record_reindex` for the audit trail). `everything` embeds every chunk
again, e.g. after a change of embedding model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import audit
from core.db import transaction
from knowledge.catalog import VersionInfo, embedding_text, versions_for
from knowledge.models import ChunkRow, DocumentVersionRow
from knowledge.progress import IngestProgress, SilentProgress
from knowledge.vector_index import VectorIndex

BATCH = 256  # chunks embedded and written at a time: bounded memory, and progress a user can see


@dataclass
class StudyReindex:
    study: str
    chunks: int = 0
    embedded: int = 0
    removed: int = 0
    flags_set: list[str] = field(default_factory=list)  # "doc version" whose current flag was wrong

    def line(self) -> str:
        fixed = len(self.flags_set)
        return (
            f"study {self.study}: {self.chunks} chunks stored; {self.embedded} embedded again, "
            f"{self.removed} stray vectors removed, {fixed} version flag{'s' if fixed != 1 else ''} corrected"
        )

    @property
    def changed(self) -> bool:
        return bool(self.embedded or self.removed or self.flags_set)


def _metadata(version: VersionInfo, section: str, page: int | None) -> dict[str, Any]:
    """What ingest stores beside each vector (knowledge.ingest); retrieval filters on study, version and current."""
    return {
        "study": version.study,
        "version_id": version.version_id,
        "doc": version.doc_key,
        "current": version.is_current,
        "section": section[:200],
        "page": page or 0,
    }


def reindex_study(
    factory: sessionmaker[Session],
    vectors: VectorIndex,
    study: str,
    *,
    everything: bool = False,
    progress: IngestProgress | None = None,
    repair: bool = True,
) -> StudyReindex:
    """Make the vector index hold exactly the study's stored chunks, each version flagged as SQL says.

    `repair=False` only embeds what is missing (what ingest runs after every file). Removing and re-flagging
    leaves alone what an ingest running elsewhere is writing: its vectors are written before its SQL rows
    commit, under a version id newer than any committed one, so only older versions' strays go."""
    report = StudyReindex(study)
    with factory() as session:
        newest = session.scalar(select(func.max(DocumentVersionRow.id))) or 0
        versions = {v.version_id: v for v in versions_for(session, [study])}
        rows = (
            session.execute(
                select(ChunkRow.id, ChunkRow.version_id, ChunkRow.section, ChunkRow.text, ChunkRow.page)
                .where(ChunkRow.version_id.in_(list(versions) or [-1]))
                .order_by(ChunkRow.version_id, ChunkRow.ordinal)
            )
            .tuples()
            .all()
        )
    report.chunks = len(rows)
    held = vectors.stored_metadata(study)
    stored_ids = {r[0] for r in rows}
    stray = [cid for cid, meta in held.items() if repair and cid not in stored_ids and _settled(meta, versions, newest)]
    if stray:
        vectors.delete(stray)
        report.removed = len(stray)
    todo = [r for r in rows if everything or r[0] not in held]
    progress = progress or SilentProgress()
    progress.chunks_planned(len(todo))
    for start in range(0, len(todo), BATCH):
        part = todo[start : start + BATCH]
        texts = [embedding_text(section, text) for _, _, section, text, _ in part]
        vectors.add(
            [cid for cid, *_ in part],
            texts,
            vectors.embeddings.embed(texts),
            [_metadata(versions[vid], section, page) for _, vid, section, _, page in part],
        )
        report.embedded += len(part)
        progress.chunks_done(len(part))
    redone = {r[0] for r in todo}
    wrong = {
        int(meta["version_id"])
        for cid, meta in held.items()
        if repair
        and cid in stored_ids
        and cid not in redone
        and int(meta.get("version_id", -1)) in versions
        and bool(meta.get("current")) != versions[int(meta["version_id"])].is_current
    }
    for version_id in sorted(wrong):
        version = versions[version_id]
        vectors.set_current(version_id, version.is_current)
        report.flags_set.append(f"{version.doc_key} {version.version}")
    return report


def _settled(meta: dict[str, Any], versions: dict[int, VersionInfo], newest: int) -> bool:
    """Whether a vector SQL does not hold belongs to a settled version (committed, or older than the newest
    committed one: an ingest killed between its two writes), not to an ingest still writing."""
    version_id = int(meta.get("version_id", -1))
    return version_id in versions or version_id < newest


def record_reindex(
    factory: sessionmaker[Session], report: StudyReindex, *, now: datetime, actor: str, everything: bool
) -> None:
    """Put one study's repair on the audit trail: the index answers questions, so who rebuilt it and what
    moved is part of the record (`siteline reindex`, or ingest filling what the index lacked)."""
    with transaction(factory) as session:
        audit.record(
            session,
            now=now,
            actor=actor,
            action="knowledge.reindex",
            subject=report.study,
            detail={
                "chunks": report.chunks,
                "embedded": report.embedded,
                "removed": report.removed,
                "flags_set": report.flags_set,
                "everything": everything,
            },
        )
