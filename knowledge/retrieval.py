"""Hybrid retrieval: BM25 and vector candidates, fused by reciprocal rank, steered by document names.

Both searches are limited to the asker's studies inside the index (per-study BM25 indexes, a
Chroma `where` filter), and to current versions unless a version is asked for. When the question
names a document ("psa2", "IGBJ", "the wilson study"), that document's chunks get a bonus and a
vector search of their own, because chat questions about one study rarely repeat its vocabulary.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from knowledge.answer_model import AnswerModel, shipped_model
from knowledge.catalog import (
    VersionInfo,
    chunks_by_id,
    fingerprint,
    generation,
    index_chunks,
    next_chunks,
    opening_codes,
    versions_for,
)
from knowledge.features import passage_matrix
from knowledge.keyword_index import KeywordIndex, StudyIndex
from knowledge.lexicon import QueryTerms, as_documents_say, expand, terms
from knowledge.models import ChunkRow
from knowledge.scoring import Weighted, best_window, coverage, sentence_hits, term_set, weigh
from knowledge.types import Passage
from knowledge.vector_index import VectorIndex

SENTENCE_END = re.compile(r"[.!?:;)\]\"”’]\s*$")
RRF_K = 60
CANDIDATES = 40
ROUTE_BONUS = 2.0 / (RRF_K + 1)
NAME_ELSEWHERE = 0.02  # a file-name word used by more than 2% of other documents' chunks names nothing
RERANK = 40  # fused candidates reordered by the fitted passage model (knowledge.answer_model)


@dataclass
class Candidate:
    chunk_id: str
    version: VersionInfo
    bm25: float = 0.0
    bm25_rank: int | None = None
    cosine: float = 0.0
    vec_rank: int | None = None
    route: float = 0.0
    sentence: float = 0.0  # coverage of the question by the chunk's best sentence (0..1)
    fused: float = 0.0


@dataclass
class Retrieval:
    """What a search found, with what the answer step needs to judge it."""

    passages: list[Passage]
    candidates: list[Candidate]
    query: QueryTerms
    query_vector: np.ndarray
    chunks: dict[str, ChunkRow] = field(default_factory=dict)
    idf: dict[str, float] = field(default_factory=dict)
    routed_docs: set[int] = field(default_factory=set)
    routing_terms: set[str] = field(default_factory=set)
    concepts: dict[str, Weighted] = field(default_factory=dict)
    following: dict[str, ChunkRow] = field(default_factory=dict)  # next chunk of a passage that ends mid-sentence
    passage_features: np.ndarray | None = None  # the reranked candidates' PASSAGE_FEATURES (for fitting)
    passage_ids: list[str] = field(default_factory=list)  # their chunk ids, in the same order
    reader_vector: np.ndarray | None = None  # the reader's vector of the question, for the answer step to reuse
    reader_question: str = ""  # what the reader read: the question, with the study's short forms spelled out


def _route(
    query: QueryTerms,
    versions: Sequence[VersionInfo],
    indexes: Sequence[StudyIndex],
    codes: dict[int, frozenset[str]] | None = None,
) -> tuple[dict[int, float], set[str]]:
    """Score each document by question words found in its file name (rarer words count more).

    A file-name word routes only if the other documents hardly use it: "psa2", "igbj", "wilson" or
    "glucagon" name a document, while "reporting" in "..._Safety_Reporting_2025" is everyone's word.
    Title words ("upadacitinib") and code words of a document's opening pages ("LY900018", "ABT-494")
    name it as its file name does.
    Returns the scores by document id and the question terms that did the routing.
    """
    docs = {v.document_id: v for v in versions}
    if len(docs) < 2:
        return {}, set()
    names = {
        d: set(terms(v.doc_key)) | set(terms(v.title)) | set((codes or {}).get(v.version_id, ()))
        for d, v in docs.items()
    }
    doc_of_version = {v.version_id: v.document_id for v in versions}
    scores: dict[int, float] = {}
    used: set[str] = set()
    for term in set(query.naming):
        if term.isdigit() and len(term) < 3:
            continue
        having = {d for d, n in names.items() if term in n}
        if not having or len(having) > len(docs) / 2:
            continue
        outside = total = 0
        for index in indexes:
            elsewhere = np.array([doc_of_version.get(int(v)) not in having for v in index.version_ids], dtype=bool)
            outside += int((index.containing(term) & elsewhere).sum())
            total += int(elsewhere.sum())
        if total and outside / total > NAME_ELSEWHERE:
            continue
        used.add(term)
        weight = math.log(len(docs) / len(having))
        for d in having:
            scores[d] = scores.get(d, 0.0) + weight
    return scores, used


def _fuse(cands: dict[str, Candidate], route: dict[int, float]) -> list[Candidate]:
    """Reciprocal rank fusion of both rankings, plus a bonus for the document the question named."""
    best_route = max(route.values(), default=0.0)
    for c in cands.values():
        c.route = route.get(c.version.document_id, 0.0) / best_route if best_route else 0.0
        c.fused = sum(1.0 / (RRF_K + r) for r in (c.bm25_rank, c.vec_rank) if r) + ROUTE_BONUS * c.route
    return sorted(cands.values(), key=lambda c: -c.fused)


ROWS_KEPT = 20_000  # stored chunks kept in memory per catalog generation (their text: a few tens of MB at most)


@dataclass
class _Catalog:
    """What one catalog generation's questions read again and again: the studies' versions and the chunk rows.
    Both are fixed until the generation moves (a stored chunk never changes; any ingest, here or in another
    process, moves it), so they are read once per generation, not once per question."""

    generation: object
    versions: dict[tuple[str, ...], list[VersionInfo]] = field(default_factory=dict)
    rows: dict[str, ChunkRow] = field(default_factory=dict)

    def versions_for(self, session: Session, studies: Sequence[str]) -> list[VersionInfo]:
        key = tuple(sorted(set(studies)))
        if key not in self.versions:
            self.versions[key] = versions_for(session, studies)
        return self.versions[key]

    def chunks_by_id(self, session: Session, ids: Sequence[str]) -> dict[str, ChunkRow]:
        missing = [i for i in ids if i not in self.rows]
        if missing:
            found = chunks_by_id(session, missing)  # detached, fully loaded, when the retrieval's session closes
            if len(self.rows) + len(found) > ROWS_KEPT:
                self.rows = {i: self.rows[i] for i in ids if i in self.rows}
            self.rows.update(found)
        rows = self.rows
        return {i: rows[i] for i in ids if i in rows}


class HybridRetriever:
    def __init__(
        self,
        factory: sessionmaker[Session],
        keyword: KeywordIndex,
        vectors: VectorIndex,
        reader: Callable[[str], np.ndarray] | None = None,
        *,
        reader_made_index: bool = False,
    ) -> None:
        self.factory = factory
        self.keyword = keyword
        self.vectors = vectors
        self.reader = reader  # the fine-tuned reader's question vector (knowledge.reader), if installed
        # The index holds the reader's vectors: the question as asked, embedded for the search, is already
        # the reader's vector of it.
        self.reader_made_index = reader_made_index and reader is not None
        self._codes: dict[int, frozenset[str]] = {}  # version id -> code words of its title pages
        self._catalog = _Catalog(None)

    def _catalog_at(self, stamp: object) -> _Catalog:
        catalog = self._catalog
        if catalog.generation != stamp:
            catalog = self._catalog = _Catalog(stamp)
        return catalog

    def warm(self, study: str) -> None:
        """Build (and store) the study's keyword index now, as ingest ends, so the first question does not;
        nothing else: no question is embedded or scored."""
        with self.factory() as session:
            stamp = generation(session)
            self._study_indexes(session, [study], self._catalog_at(stamp).versions_for(session, [study]))

    def _study_indexes(self, session: Session, studies: Sequence[str], versions: list[VersionInfo]) -> list[StudyIndex]:
        """The keyword index of each study that has versions: from memory, disk, or built from SQL now."""
        return [
            self.keyword.get(study, fingerprint(mine), lambda s=study, m=mine: index_chunks(session, s, m))
            for study in sorted(set(studies))
            if (mine := [v for v in versions if v.study == study])
        ]

    def retrieve(
        self,
        question: str,
        *,
        studies: Sequence[str],
        k: int = 5,
        version: str | None = None,
        doc: str | None = None,
        model: AnswerModel | None = None,
    ) -> Retrieval:
        with self.factory() as session:
            stamp = generation(session)
            self.vectors.ensure_fresh(stamp)
            catalog = self._catalog_at(stamp)
            versions = catalog.versions_for(session, studies)
            indexes = self._study_indexes(session, studies, versions)
            allowed = [
                v
                for v in versions
                if (doc is None or v.doc_key == doc or v.file_name == doc)
                and (v.version == version if version else v.is_current)
            ]
            vocab: dict[str, int] = {}
            defined: dict[str, list[str]] = {}
            for index in indexes:
                for t, n in index.vocab.items():
                    vocab[t] = vocab.get(t, 0) + n
                for short, forms in index.lexicon.items():
                    defined.setdefault(short, []).extend(f for f in forms if f not in defined.get(short, []))
            query = expand(question, vocab, defined)
            reader_question = as_documents_say(question, defined, vocab)
            qvec, raw_vec = self.vectors.embed_questions([query.semantic_text, reader_question])
            if not allowed:
                return Retrieval([], [], query, qvec)
            by_version = {v.version_id: v for v in allowed}
            self.vectors.expected.update((v.version_id, v.chunk_count) for v in allowed)
            cands = self._keyword_candidates(indexes, query, by_version)
            codes = opening_codes(session, [v.version_id for v in allowed], self._codes)
            route, routing_terms = _route(query, allowed, indexes, codes)
            explicit = list(by_version) if (version or doc) else None
            routed = [v.version_id for v in allowed if v.document_id in route]
            self._vector_candidates(cands, qvec, studies, by_version, explicit, routed)
            ranked = _fuse(cands, route)
            rows = catalog.chunks_by_id(session, [c.chunk_id for c in ranked[: max(k, RERANK)]])
        total = sum(len(index.chunk_ids) for index in indexes)
        idf = {t: math.log(1 + (total - vocab.get(t, 0) + 0.5) / (vocab.get(t, 0) + 0.5)) for t in query.weights}
        concepts = weigh(query, idf, routing_terms, rarest=math.log(1 + (total + 0.5) / 1.5))
        reader_vec = None
        if self.reader is not None:
            reader_vec = raw_vec if self.reader_made_index else self.reader(reader_question)
        ranked, features, head = self._rerank(
            ranked, rows, concepts, qvec, raw_vec, reader_vec, model or shipped_model()
        )
        passages = [self._passage(c, rows[c.chunk_id]) for c in ranked[:k] if c.chunk_id in rows]
        cut = [rows[p.chunk_id] for p in passages if not SENTENCE_END.search(rows[p.chunk_id].text)]
        following: dict[str, ChunkRow] = {}
        if cut:  # a sentence running over a chunk (often a page) end: its end is at the start of the next chunk
            with self.factory() as session:
                following = {
                    cid: row for cid, row in next_chunks(session, cut).items() if row.section == rows[cid].section
                }
        return Retrieval(
            passages, ranked, query, qvec, rows, idf, set(route), routing_terms, concepts, following, features, head,
            reader_vector=reader_vec, reader_question=reader_question,
        )  # fmt: skip

    def _rerank(
        self,
        ranked: list[Candidate],
        rows: dict[str, ChunkRow],
        concepts: dict[str, Weighted],
        qvec: np.ndarray,
        raw_vec: np.ndarray,
        reader_vec: np.ndarray | None,
        model: AnswerModel,
    ) -> tuple[list[Candidate], np.ndarray | None, list[str]]:
        """Reorder the RERANK best fused candidates by the fitted passage model: both rankings, the best
        sentence's coverage, and every candidate's stored vector against the question (keyword-only
        candidates included, at no embedding cost) and against the reader's vector of it. When the reader made
        the index (knowledge.reader, the default) that is the search vector itself; over a stock index it reads
        the stock vectors directly (fine-tuned from that model, it stays close to its space)."""
        head = [c for c in ranked[:RERANK] if c.chunk_id in rows]
        for c in head:
            row = rows[c.chunk_id]
            c.sentence = best_window(sentence_hits(c.chunk_id, row.text, concepts, row.section), concepts)
        if not head:
            return ranked, None, []
        stored = self.vectors.vectors_of([c.chunk_id for c in head])
        zero = np.zeros_like(qvec)
        vecs = np.stack([stored.get(c.chunk_id, zero) for c in head])
        whole = [coverage(term_set(rows[c.chunk_id].text), concepts)[0] for c in head]  # cached per chunk
        headings = [coverage(term_set(rows[c.chunk_id].section), concepts)[0] for c in head]
        features = passage_matrix(
            head,
            (vecs @ qvec).tolist(),
            (vecs @ raw_vec).tolist(),
            whole,
            headings,
            None if reader_vec is None else (vecs @ reader_vec).tolist(),
        )
        order = model.passage_order(features)
        taken = {c.chunk_id for c in head}
        return (
            [head[i] for i in order] + [c for c in ranked if c.chunk_id not in taken],
            features,
            [c.chunk_id for c in head],
        )

    @staticmethod
    def _keyword_candidates(
        indexes: list[StudyIndex], query: QueryTerms, by_version: dict[int, VersionInfo]
    ) -> dict[str, Candidate]:
        cands: dict[str, Candidate] = {}
        for index in indexes:
            scores = index.scores(query.weights, set(by_version))
            for i in np.argsort(-scores)[:CANDIDATES]:
                if scores[i] <= 0:
                    break
                cid = index.chunk_ids[i]
                cands[cid] = Candidate(cid, by_version[int(index.version_ids[i])], bm25=float(scores[i]))
        for rank, c in enumerate(sorted(cands.values(), key=lambda c: -c.bm25), start=1):
            c.bm25_rank = rank
        return cands

    def _vector_candidates(
        self,
        cands: dict[str, Candidate],
        qvec: np.ndarray,
        studies: Sequence[str],
        by_version: dict[int, VersionInfo],
        explicit: list[int] | None,
        routed: list[int],
    ) -> None:
        """Nearest chunks inside the study (and version) filter; the named document gets its own search."""
        # The versions SQL calls current, not Chroma's `current` flag: SQL is the record an ingest that
        # failed half-way rolled back, so the vector side can never hide or add a version.
        hits = self.vectors.search(qvec, studies, CANDIDATES, version_ids=explicit or list(by_version))
        in_named = sum(1 for h in hits if h.version_id in routed)
        if routed and not explicit and in_named < CANDIDATES // 4:  # the named document is underrepresented
            hits += self.vectors.search(qvec, studies, CANDIDATES // 2, version_ids=routed)
        seen: set[str] = set()
        for hit in sorted(hits, key=lambda h: -h.similarity):
            if hit.chunk_id in seen or hit.version_id not in by_version:
                continue
            seen.add(hit.chunk_id)
            c = cands.setdefault(hit.chunk_id, Candidate(hit.chunk_id, by_version[hit.version_id]))
            c.cosine = hit.similarity
            c.vec_rank = len(seen)

    @staticmethod
    def _passage(c: Candidate, row: ChunkRow) -> Passage:
        v = c.version
        return Passage(
            chunk_id=c.chunk_id,
            study=v.study,
            doc=v.file_name,
            title=v.title,
            version=v.version,
            section=row.section,
            page=row.page,
            text=row.text,
            score=c.fused,
        )
