"""The knowledge engine's one entry point: ingest documents, retrieve passages, answer questions.

Built once per process (`KnowledgeService.open`) because the embedding model and the indexes are
worth keeping loaded; every call gets its studies, asker and time from the caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.settings import Settings
from knowledge.answer import extractive_answer
from knowledge.answer_model import AnswerModel
from knowledge.catalog import generation, studies_with_documents, versions_for
from knowledge.embedding import MiniLmEmbeddings, shared_embeddings
from knowledge.gate import FairGate
from knowledge.ingest import Ingester, IngestReport, IngestRequest
from knowledge.instructions import masked, quotes_reader_text
from knowledge.keyword_index import KeywordIndex
from knowledge.models import ChunkRow, DocumentRow
from knowledge.progress import IngestProgress, make_progress
from knowledge.reader import Reader, shared_reader
from knowledge.readers import ReadLimits
from knowledge.recorder import AnswerRecord, AnswerRecorder
from knowledge.reindex import StudyReindex, record_reindex, reindex_study
from knowledge.retrieval import HybridRetriever, Retrieval
from knowledge.types import Answer, Passage
from knowledge.vector_index import COLLECTION, VectorIndex, VectorStoreUnavailable

log = logging.getLogger("siteline.knowledge")
# The extractive answer reads a few more passages than the top k: the sentence that answers is often in a
# passage ranked 6th-8th, and the answer model (not the passage rank) decides which sentence is quoted.
ANSWER_PASSAGES = 8


def reader_collection(reader: Reader) -> str:
    return f"{COLLECTION}_{reader.index_tag}"


def collection_name() -> str:
    """The Chroma collection this install's engine reads and writes (for operators' scripts and tests)."""
    reader = shared_reader()
    return COLLECTION if reader is None else reader_collection(reader)


def index_for(settings: Settings, embeddings: MiniLmEmbeddings, reader: Reader | None) -> VectorIndex:
    """The vector index this install searches: the reader's own collection when the reader is installed (its
    vectors find the evidence more often: knowledge.reader), the stock model's otherwise. Each model has its
    own collection, so vectors of two models are never compared."""
    if reader is None:
        return VectorIndex(settings, embeddings)
    return VectorIndex(
        settings,
        reader.passages,
        collection=reader_collection(reader),
        questions=reader.questions,
    )


class KnowledgeService:
    def __init__(
        self, settings: Settings, factory: sessionmaker[Session], embeddings: MiniLmEmbeddings, vectors: VectorIndex
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.embeddings = embeddings
        self.vectors = vectors
        self.keyword = KeywordIndex(settings.index_dir / "bm25")
        self.reader = shared_reader()  # None when its model file is not installed: the sentence model alone
        self.retriever = HybridRetriever(
            factory,
            self.keyword,
            vectors,
            self.reader.question if self.reader is not None else None,
            reader_made_index=self.reader is not None and vectors.name == reader_collection(self.reader),
        )
        self._llm: object | None = None
        self.recorder = AnswerRecorder(factory)  # answers arriving together are stored in one transaction
        # Asks computed at once, the others waiting their turn in arrival order (knowledge.gate); 0: no limit.
        self.gate = FairGate(settings.ask_concurrency) if settings.ask_concurrency else None

    @classmethod
    def open(
        cls, settings: Settings, factory: sessionmaker[Session], embeddings: MiniLmEmbeddings | None = None
    ) -> KnowledgeService:
        embeddings = embeddings or shared_embeddings()
        return cls(settings, factory, embeddings, index_for(settings, embeddings, shared_reader()))

    # -- ingest ---------------------------------------------------------------------------------

    def ingest(
        self,
        paths: Sequence[Path],
        *,
        study: str,
        kind: str,
        version: str | None = None,
        effective: date | None = None,
        now: datetime,
        progress: bool | IngestProgress = True,
        actor: str = "cli",
    ) -> IngestReport:
        """Ingest files and folders into one study; see `knowledge.ingest` for the per-file outcomes."""
        request = IngestRequest(
            study=study,
            kind=kind,
            version=version,
            effective=effective,
            now=now,
            max_bytes=self.settings.max_file_mb * 1024 * 1024,
            actor=actor,
            limits=ReadLimits(self.settings.max_unpacked_mb * 1024 * 1024, self.settings.max_text_chars),
        )
        sink = make_progress(progress)
        try:
            report = Ingester(self.factory, self.vectors).run(list(paths), request, sink)
            if any(o.status in ("ingested", "superseded", "unchanged") for o in report.outcomes):
                report.vectors_restored = self.fill_vectors(study, now=now, actor=actor, progress=sink)
        finally:
            sink.close()
        with self.factory() as session:
            self.vectors.generation = generation(session)  # this process wrote it: no reload needed
        if any(o.status in ("ingested", "superseded") for o in report.outcomes) or report.vectors_restored:
            self.retriever.warm(study)  # the keyword index now, not on the first question
        return report

    def fill_vectors(self, study: str, *, now: datetime, actor: str, progress: bool | IngestProgress = False) -> int:
        """Embed the study's stored chunks that have no vector (a deleted, damaged or restored index, or a new
        reader's empty collection): ingesting the same files again is what a user tries first. Nothing missing:
        one read, nothing recorded. Best effort: a vector store that went away has already failed its files by
        name, and the ingest's report must still come back."""
        sink = make_progress(progress)
        try:
            filled = reindex_study(self.factory, self.vectors, study, progress=sink, repair=False)
        except VectorStoreUnavailable as exc:
            log.warning("could not check the vector index for missing vectors (%s); run `siteline reindex` later", exc)
            return 0
        finally:
            if isinstance(progress, bool):  # a sink of our own; a caller's sink is the caller's to close
                sink.close()
        if filled.embedded:
            record_reindex(self.factory, filled, now=now, actor=actor, everything=False)
        return filled.embedded

    def warm_up(self) -> int:
        """Read every study's keyword index and its current versions' vectors into memory (what the first question
        on each study would otherwise wait for, or answer from Chroma's slower filtered index meanwhile); returns
        the versions read. For a server's start, off the request path; a failure is only logged."""
        try:
            with self.factory() as session:
                stamp = generation(session)
                studies = studies_with_documents(session)
                current = [v for v in versions_for(session, studies) if v.is_current]
            self.vectors.ensure_fresh(stamp)
            self.vectors.expected.update((v.version_id, v.chunk_count) for v in current)
            for study in studies:
                self.retriever.warm(study)
            self.vectors.load([v.version_id for v in current])
        except Exception as exc:  # a warm-up, not a dependency of serving: the questions read what they need
            log.warning("could not read the indexes into memory at start (%s); the first questions will", exc)
            return 0
        return len(current)

    def index_gap(self) -> tuple[int, int]:
        """(vectors held, chunks stored) over every study: fewer vectors means answers found by keywords alone
        until `siteline reindex` (said at `serve` start, where an upgrade to a new reader shows first)."""
        with self.factory() as session:
            stored = int(session.execute(select(func.count()).select_from(ChunkRow)).scalar() or 0)
        return self.vectors.count(), stored

    def reindex(
        self,
        study: str,
        *,
        now: datetime,
        everything: bool = False,
        progress: bool | IngestProgress = True,
        actor: str = "cli",
    ) -> StudyReindex:
        """Make the study's vectors match its stored chunks (`knowledge.reindex`), on the audit trail: what a
        damaged or restored index lost comes back without the files."""
        sink = make_progress(progress)
        try:
            sink.file_started(f"study {study}", 0, 1)
            report = reindex_study(self.factory, self.vectors, study, everything=everything, progress=sink)
            sink.file_finished(study, "reindexed")
        finally:
            sink.close()
        record_reindex(self.factory, report, now=now, actor=actor, everything=everything)
        return report

    # -- retrieve and answer --------------------------------------------------------------------

    def has_documents(self, studies: Sequence[str]) -> bool:
        with self.factory() as session:
            return (
                session.execute(select(DocumentRow.id).where(DocumentRow.study.in_(list(studies))).limit(1)).first()
                is not None
            )

    def search(
        self,
        question: str,
        *,
        studies: Sequence[str],
        k: int = 5,
        version: str | None = None,
        doc: str | None = None,
        model: AnswerModel | None = None,
    ) -> Retrieval:
        return self.retriever.retrieve(question, studies=studies, k=k, version=version, doc=doc, model=model)

    def retrieve(self, query: str, *, studies: Sequence[str], k: int = 5, version: str | None = None) -> list[Passage]:
        return self.search(query, studies=studies, k=k, version=version).passages

    def ask(
        self,
        question: str,
        *,
        studies: Sequence[str],
        asker: str,
        surface: str,
        now: datetime | None = None,
        phi_redacted: bool = False,
        record: bool = True,
        version: str | None = None,
        doc: str | None = None,
        k: int = 5,
        conversation_ref: dict | None = None,
    ) -> Answer:
        """Answer from the documents of `studies` only. The question arrives already PHI-redacted."""
        started = time.perf_counter()
        with self._turn():  # retrieval and the extractive answer are CPU; the LLM and the record wait outside
            found = self.search(question, studies=studies, k=max(k, ANSWER_PASSAGES), version=version, doc=doc)
        shown = found.passages[:k]
        answer = self._llm_answer(question, shown) if self.settings.llm_enabled else None
        if answer is None or quotes_reader_text(answer):
            with self._turn():
                answer = extractive_answer(question, found, reader=self.reader)
        if quotes_reader_text(answer):  # a quote ran on into a planted instruction: say nothing rather than that
            answer = Answer.abstain()
        answer.retrieved = shown
        answer.latency_ms = int((time.perf_counter() - started) * 1000)
        if record:
            if now is None:
                raise ValueError("ask(record=True) needs `now`")
            self._record(
                question,
                answer,
                studies=studies,
                asker=asker,
                surface=surface,
                now=now,
                phi_redacted=phi_redacted,
                conversation_ref=conversation_ref,
            )
        return answer

    def _turn(self) -> AbstractContextManager[None]:
        return self.gate.held() if self.gate else nullcontext()

    def _llm_answer(self, question: str, passages: list[Passage]) -> Answer | None:
        """The optional LLM writer (knowledge/llm.py); any failure falls back to the extractive answer."""
        try:
            if self._llm is None:
                from knowledge.llm import LlmAnswerer

                self._llm = LlmAnswerer(self.settings)
            readable = [replace(p, text=masked(p.text)) for p in passages]  # planted instructions never reach it
            return self._llm.answer(question, readable)  # type: ignore[attr-defined]
        except ModuleNotFoundError:
            return None
        except Exception:
            log.exception("LLM answer failed; answering extractively")
            return None

    def _record(
        self,
        question: str,
        answer: Answer,
        *,
        studies: Sequence[str],
        asker: str,
        surface: str,
        now: datetime,
        phi_redacted: bool,
        conversation_ref: dict | None,
    ) -> None:
        record = AnswerRecord(question, answer, studies, asker, surface, now, phi_redacted, conversation_ref)
        answer.question_id, answer.answer_id = self.recorder.record(record)
        metrics.count_ask(surface, abstained=answer.abstained)

    def document_versions(self, studies: Sequence[str]) -> list:
        with self.factory() as session:
            return versions_for(session, studies)
