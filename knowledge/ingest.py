"""Ingest: files -> blocks -> chunks -> vectors -> SQL rows and index entries, one file at a time.

Per file the outcome is one of: ingested, unchanged (same content already stored), superseded
(a new version replaced the current one), skipped (an alternate format of a document in the same
ingest, or an unsupported file found in a folder) or failed (with the reason). A failing file
never stops the others, and nothing of it is stored: its SQL rows commit only after its vectors
are written, and its vectors are removed if the commit fails. When the Chroma server goes away
mid-ingest, the file at hand fails with that reason and its SQL rows are rolled back; any of
its vectors the server kept belong to no SQL version and retrieval never returns them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import audit
from core.db import transaction
from knowledge.catalog import embedding_text
from knowledge.chunking import Chunk, chunk_blocks
from knowledge.models import ChunkRow, DocumentRow, DocumentVersionRow
from knowledge.progress import IngestProgress
from knowledge.readers import RICHNESS, ReadError, file_format, read_document
from knowledge.vector_index import VectorIndex, VectorStoreUnavailable

log = logging.getLogger("siteline.knowledge.ingest")
Status = Literal["ingested", "unchanged", "superseded", "skipped", "failed"]


@dataclass
class FileOutcome:
    path: Path
    status: Status
    detail: str = ""
    doc: str = ""
    version: str = ""
    chunks: int = 0
    pages: int | None = None

    def line(self) -> str:
        return f"{self.status:<10} {self.path.name}" + (f": {self.detail}" if self.detail else "")


@dataclass
class IngestReport:
    study: str
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


@dataclass(frozen=True)
class IngestRequest:
    study: str
    kind: str
    version: str | None
    effective: date | None
    now: datetime
    max_bytes: int
    actor: str = "cli"


def collect(paths: Sequence[Path]) -> tuple[list[Path], list[FileOutcome]]:
    """Files to ingest, with one file per document name: the richest format wins, the others are reported."""
    found: list[Path] = []
    early: list[FileOutcome] = []
    for path in paths:
        if path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in f.relative_to(path).parts):
                    continue
                if file_format(f) is None:
                    early.append(FileOutcome(f, "skipped", f"unsupported file type {f.suffix or '(none)'}"))
                else:
                    found.append(f)
        elif path.is_file():
            found.append(path)
        else:
            early.append(FileOutcome(path, "failed", "no such file or folder"))
    by_stem: dict[str, list[Path]] = {}
    for f in dict.fromkeys(found):
        by_stem.setdefault(f.stem.lower(), []).append(f)
    chosen: list[Path] = []
    for group in by_stem.values():
        group.sort(key=lambda p: -RICHNESS.get(file_format(p) or "", 0))
        chosen.append(group[0])
        early.extend(FileOutcome(p, "skipped", f"alternate format of {group[0].name}") for p in group[1:])
    return chosen, early


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Ingester:
    def __init__(self, factory: sessionmaker[Session], vectors: VectorIndex) -> None:
        self.factory = factory
        self.vectors = vectors

    def run(self, paths: Sequence[Path], request: IngestRequest, progress: IngestProgress) -> IngestReport:
        report = IngestReport(request.study)
        files, early = collect(paths)
        report.outcomes.extend(early)
        for n, path in enumerate(files):
            progress.file_started(path.name, n, len(files))
            try:
                outcome = self._one(path, request, progress)
            except ReadError as exc:
                outcome = FileOutcome(path, "failed", str(exc))
            except OSError as exc:
                outcome = FileOutcome(path, "failed", f"cannot read the file ({exc.strerror or exc})")
            except VectorStoreUnavailable as exc:
                outcome = FileOutcome(path, "failed", f"{exc}; nothing of this file was stored")
            report.outcomes.append(outcome)
            progress.file_finished(path.name, outcome.status)
        return report

    def _precheck(self, path: Path, digest: str, request: IngestRequest) -> FileOutcome | None:
        """Decide without parsing whether the file is already stored or conflicts with a stored version."""
        with self.factory() as session:
            doc = session.execute(
                select(DocumentRow).where(DocumentRow.study == request.study, DocumentRow.doc_key == path.stem)
            ).scalar()
            if doc is None:
                return None
            versions = (
                session.execute(select(DocumentVersionRow).where(DocumentVersionRow.document_id == doc.id))
                .scalars()
                .all()
            )
        for v in versions:
            if v.content_hash == digest:
                note = "" if v.is_current else " (an older version; the current one stays)"
                return FileOutcome(
                    path, "unchanged", f"already ingested as version {v.version}{note}", path.stem, v.version
                )
        if request.version and any(v.version == request.version for v in versions):
            return FileOutcome(
                path,
                "failed",
                f"version {request.version} of {path.stem} is already ingested with different "
                "content; give the new content a new --version",
            )
        current = next((v for v in versions if v.is_current), None)
        if current and file_format(Path(current.file_name)) != file_format(path):
            mine, theirs = (
                RICHNESS.get(file_format(path) or "", 0),
                RICHNESS.get(file_format(Path(current.file_name)) or "", 0),
            )
            if mine < theirs:
                return FileOutcome(
                    path, "skipped", f"alternate format of {current.file_name}, which is already ingested"
                )
        return None

    def _one(self, path: Path, request: IngestRequest, progress: IngestProgress) -> FileOutcome:
        size = path.stat().st_size
        if size > request.max_bytes:
            limit = request.max_bytes // (1024 * 1024)
            raise ReadError(f"file is {size / 1048576:.1f} MB, over the {limit} MB limit (SITELINE_MAX_FILE_MB)")
        digest = _hash(path)
        decided = self._precheck(path, digest, request)
        if decided:
            return decided
        parsed = read_document(path)
        chunks = chunk_blocks(parsed.blocks)
        if not chunks:
            raise ReadError("no text found in the document")
        progress.chunks_planned(len(chunks))
        vectors = self.vectors.embeddings.embed(
            [embedding_text(c.section, c.text) for c in chunks], progress=progress.chunks_done
        )
        title = parsed.title or path.stem.replace("_", " ")
        return self._store(path, digest, request, parsed.pages, title, chunks, vectors)

    def _undo_vectors(self, added: list[str], demoted: list[int]) -> None:
        """Best effort: the SQL rows are already rolled back, which is what retrieval trusts."""
        try:
            if added:
                self.vectors.delete(added)
            for old_id in demoted:
                self.vectors.set_current(old_id, True)
        except VectorStoreUnavailable:
            log.warning("could not remove %d vectors of a failed ingest; no SQL row refers to them", len(added))

    def _store(
        self,
        path: Path,
        digest: str,
        request: IngestRequest,
        pages: int | None,
        title: str,
        chunks: list[Chunk],
        vectors: np.ndarray,
    ) -> FileOutcome:
        added: list[str] = []
        demoted: list[int] = []
        try:
            with transaction(self.factory) as session:
                doc = session.execute(
                    select(DocumentRow).where(DocumentRow.study == request.study, DocumentRow.doc_key == path.stem)
                ).scalar()
                if doc is None:
                    doc = DocumentRow(study=request.study, doc_key=path.stem, kind=request.kind, title=title[:500])
                    session.add(doc)
                    session.flush()
                doc.kind, doc.title = request.kind, title[:500]
                previous = (
                    session.execute(select(DocumentVersionRow).where(DocumentVersionRow.document_id == doc.id))
                    .scalars()
                    .all()
                )
                label = request.version or str(1 + sum(1 for _ in previous))
                while any(v.version == label for v in previous):
                    label = f"{label}.1"
                for old in previous:
                    if old.is_current:
                        old.is_current = False
                        demoted.append(old.id)
                version = DocumentVersionRow(
                    document_id=doc.id,
                    version=label,
                    effective=request.effective,
                    file_name=path.name,
                    content_hash=digest,
                    pages=pages,
                    is_current=True,
                    ingested_at=request.now,
                    chunk_count=len(chunks),
                )
                session.add(version)
                session.flush()
                ids = [f"v{version.id}c{c.ordinal}" for c in chunks]
                session.add_all(
                    ChunkRow(
                        id=cid,
                        version_id=version.id,
                        study=request.study,
                        ordinal=c.ordinal,
                        section=c.section[:500],
                        page=c.page,
                        page_end=c.page_end,
                        page_map=[list(p) for p in c.page_map],
                        text=c.text,
                    )
                    for cid, c in zip(ids, chunks, strict=True)
                )
                session.flush()
                metadatas = [
                    {
                        "study": request.study,
                        "version_id": version.id,
                        "doc": path.stem,
                        "current": True,
                        "section": c.section[:200],
                        "page": c.page or 0,
                    }
                    for c in chunks
                ]
                added = ids
                self.vectors.add(ids, [embedding_text(c.section, c.text) for c in chunks], vectors, metadatas)
                for old_id in demoted:
                    self.vectors.set_current(old_id, False)
                audit.record(
                    session,
                    now=request.now,
                    actor=request.actor,
                    action="knowledge.ingest",
                    subject=path.name,
                    detail={
                        "study": request.study,
                        "doc": path.stem,
                        "version": label,
                        "sha256": digest,
                        "chunks": len(chunks),
                        "supersedes": [v.version for v in previous if v.id in demoted],
                    },
                )
        except BaseException:
            self._undo_vectors(added, demoted)
            raise
        if demoted:
            old_labels = ", ".join(v.version for v in previous if v.id in demoted)
            status: Status = "superseded"
            detail = f"version {label} ({len(chunks)} chunks) supersedes version {old_labels}"
        else:
            status, detail = (
                "ingested",
                f"version {label}, {len(chunks)} chunks" + (f", {pages} pages" if pages else ""),
            )
        return FileOutcome(path, status, detail, path.stem, label, len(chunks), pages)
