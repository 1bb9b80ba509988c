"""Ingest: files -> blocks -> chunks -> vectors -> SQL rows and index entries, one file at a time.

Per file the outcome is one of: ingested, unchanged (same content already stored), superseded
(a new version replaced the current one), skipped (an alternate format of a document in the same
folder, or an unsupported file found in a folder) or failed (with the reason). When the richest
format of a document fails to read, the next format in that folder is ingested instead. A failing file
never stops the others, and nothing of it is stored: its SQL rows commit only after its vectors
are written, and its vectors are removed if the commit fails. When the Chroma server goes away
mid-ingest, the file at hand fails with that reason and its SQL rows are rolled back; any of
its vectors the server kept belong to no SQL version and retrieval never returns them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import audit
from core.db import hold_write_lock, transaction
from knowledge.catalog import embedding_text
from knowledge.chunking import Chunk, chunk_blocks
from knowledge.discover import Candidate, collect
from knowledge.instructions import flagged_sentences
from knowledge.models import ChunkRow, DocumentRow, DocumentVersionRow
from knowledge.outcomes import FileOutcome, IngestReport, Status
from knowledge.progress import IngestProgress
from knowledge.readers import RICHNESS, ParsedDocument, ReadError, ReadLimits, file_format, read_document
from knowledge.vector_index import VectorIndex, VectorStoreUnavailable

log = logging.getLogger("siteline.knowledge.ingest")


@dataclass(frozen=True)
class IngestRequest:
    study: str
    kind: str
    version: str | None
    effective: date | None
    now: datetime
    max_bytes: int
    actor: str = "cli"
    limits: ReadLimits = field(default_factory=ReadLimits)


def reader_instructions(parsed: ParsedDocument) -> tuple[int, str | None]:
    """How many sentences speak to the reader or an assistant instead of about the study, and a warning
    naming their pages (they stay stored but are never quoted as an answer; see knowledge/instructions.py)."""
    pages: list[int | None] = []
    for block in parsed.blocks:
        pages.extend(block.page for _ in flagged_sentences(block.text))
    if not pages:
        return 0, None
    numbered = sorted({p for p in pages if p is not None})
    where = f"on page {', '.join(map(str, numbered))}" if numbered else "(the file has no page numbers)"
    return (
        len(pages),
        f"{len(pages)} sentence(s) {where} address the reader or an assistant rather than the study "
        "(e.g. asking for a password or to ignore instructions); they will never be quoted as an answer",
    )


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
        documents, early = collect(paths)
        report.outcomes.extend(early)
        for n, document in enumerate(documents):
            progress.file_started(document.files[0].name, n, len(documents))
            outcomes = self._document(document, request, progress)
            report.outcomes.extend(outcomes)
            status = next((o.status for o in outcomes if o.status != "failed"), "failed")
            progress.file_finished(document.files[0].name, status)
        return report

    def _document(self, document: Candidate, request: IngestRequest, progress: IngestProgress) -> list[FileOutcome]:
        """Ingest the richest format that reads; a failed format is reported and the next one is tried."""
        outcomes: list[FileOutcome] = []
        for i, path in enumerate(document.files):
            try:
                outcome = self._one(path, document.key, request, progress)
            except ReadError as exc:
                outcome = FileOutcome(path, "failed", str(exc))
            except OSError as exc:
                outcome = FileOutcome(path, "failed", f"cannot read the file ({exc.strerror or exc})")
            except VectorStoreUnavailable as exc:
                outcome = FileOutcome(path, "failed", f"{exc}; nothing of this file was stored")
            except Exception as exc:  # a reader's bug on one strange file must not end the run for the others
                log.error("ingest: %s failed unexpectedly (%s)", path.name, type(exc).__name__)
                outcome = FileOutcome(
                    path, "failed", f"could not be read ({type(exc).__name__}); nothing of this file was stored"
                )
            if outcome.status != "failed":
                for failed in outcomes:
                    failed.detail += f"; {path.name} was used instead"
                rest = document.files[i + 1 :]
                return [
                    *outcomes,
                    outcome,
                    *(FileOutcome(p, "skipped", f"alternate format of {path.name}") for p in rest),
                ]
            outcomes.append(outcome)
        return outcomes

    def _precheck(self, path: Path, key: str, digest: str, request: IngestRequest) -> FileOutcome | None:
        """Decide without parsing whether the file is already stored or conflicts with a stored version."""
        with self.factory() as session:
            doc = session.execute(
                select(DocumentRow).where(DocumentRow.study == request.study, DocumentRow.doc_key == key)
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
                return FileOutcome(path, "unchanged", f"already ingested as version {v.version}{note}", key, v.version)
        if request.version and any(v.version == request.version for v in versions):
            return FileOutcome(
                path,
                "failed",
                f"version {request.version} of {key} is already ingested with different "
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

    def _one(self, path: Path, key: str, request: IngestRequest, progress: IngestProgress) -> FileOutcome:
        size = path.stat().st_size
        if size > request.max_bytes:
            limit = request.max_bytes // (1024 * 1024)
            raise ReadError(f"file is {size / 1048576:.1f} MB, over the {limit} MB limit (SITELINE_MAX_FILE_MB)")
        digest = _hash(path)
        decided = self._precheck(path, key, digest, request)
        if decided:
            return decided
        parsed = read_document(path, request.limits)
        chunks = chunk_blocks(parsed.blocks)
        if not chunks:
            raise ReadError("no text found in the document")
        progress.chunks_planned(len(chunks))
        with ThreadPoolExecutor(1, thread_name_prefix="ingest-scan") as side:
            # The scan for planted instructions is Python; the embedding is onnxruntime, which lets go of
            # the GIL: side by side, the scan costs ingest almost nothing.
            scan = side.submit(reader_instructions, parsed)
            vectors = self.vectors.embeddings.embed(
                [embedding_text(c.section, c.text) for c in chunks], progress=progress.chunks_done
            )
            planted, warning = scan.result()
        title = parsed.title or path.stem.replace("_", " ")
        outcome = self._store(path, key, digest, request, parsed.pages, title, chunks, vectors, planted)
        if warning:
            outcome.warnings.append(warning)
        return outcome

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
        key: str,
        digest: str,
        request: IngestRequest,
        pages: int | None,
        title: str,
        chunks: list[Chunk],
        vectors: np.ndarray,
        planted: int = 0,
    ) -> FileOutcome:
        added: list[str] = []
        demoted: list[int] = []
        try:
            with transaction(self.factory) as session:
                # SQLite: the file's write lock from here, so two processes ingesting one document at once
                # never both read the same versions and both store "the next" current one.
                hold_write_lock(session)
                doc = session.execute(
                    select(DocumentRow).where(DocumentRow.study == request.study, DocumentRow.doc_key == key)
                ).scalar()
                if doc is None:
                    doc = DocumentRow(study=request.study, doc_key=key, kind=request.kind, title=title[:500])
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
                        "doc": key,
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
                        "doc": key,
                        "version": label,
                        "sha256": digest,
                        "chunks": len(chunks),
                        "reader_instructions": planted,
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
        return FileOutcome(path, status, detail, key, label, len(chunks), pages)
