"""The keyword side of retrieval: one BM25 index per study (bm25s), saved under the index folder.

Why one index per study: a question is only ever scored against the indexes of the studies the
asker may see, so another study's text cannot leak into results or even into term statistics,
and re-indexing after an ingest touches one study only. Old versions stay in the index (they
remain queryable by version); which versions count is a mask applied while scoring.

SQL is the source of truth. Each index carries a fingerprint of the study's versions; when the
database has moved on (another process ingested), the index is rebuilt from the chunk rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.lexicon import terms
from knowledge.study_lexicon import learn, with_study_drug

log = logging.getLogger("siteline.knowledge")


@dataclass
class IndexedChunk:
    chunk_id: str
    version_id: int
    text: str  # what BM25 sees: document name words, section heading, chunk text
    section: str = ""
    body: str = ""  # the chunk text alone (where the study's own definitions are read)


@dataclass
class StudyIndex:
    study: str
    fingerprint: str
    chunk_ids: list[str]
    version_ids: np.ndarray
    model: object | None  # bm25s.BM25, or None when the study has no chunks
    vocab: dict[str, int]  # term -> number of chunks containing it
    lexicon: dict[str, list[str]] = field(default_factory=dict)  # the study's own abbreviations, codes, brands

    def containing(self, term: str) -> np.ndarray:
        """Which chunks contain the term (as a boolean mask over `chunk_ids`)."""
        if self.model is None or term not in self.vocab:
            return np.zeros(len(self.chunk_ids), dtype=bool)
        return self.model.get_scores([term]) > 0  # type: ignore[attr-defined]

    def scores(self, weights: dict[str, float], allowed_versions: set[int]) -> np.ndarray:
        """Weighted BM25 score of every chunk, zero outside the allowed versions."""
        if self.model is None or not weights:
            return np.zeros(len(self.chunk_ids), dtype=np.float32)
        total = np.zeros(len(self.chunk_ids), dtype=np.float32)
        for term, weight in weights.items():
            if term in self.vocab:
                total += weight * self.model.get_scores([term])  # type: ignore[attr-defined]
        mask = np.isin(self.version_ids, np.fromiter(allowed_versions, dtype=np.int64))
        return np.where(mask, total, 0.0)


def _openings(chunks: list[IndexedChunk], per_version: int = 2) -> list[str]:
    """The first chunks of each document version (chunks come ordered by version, then position): its title page."""
    seen: dict[int, int] = {}
    out = []
    for c in chunks:
        seen[c.version_id] = seen.get(c.version_id, 0) + 1
        if seen[c.version_id] <= per_version:
            out.append(c.body)
    return out


def _folder_name(study: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", study)[:40]
    return f"{slug}-{hashlib.sha256(study.encode()).hexdigest()[:10]}"


def _document_frequencies(model: object) -> dict[str, int]:
    vocab: dict[str, int] = model.vocab_dict  # type: ignore[attr-defined]
    indptr = model.scores["indptr"]  # type: ignore[attr-defined]
    return {t: int(indptr[i + 1] - indptr[i]) for t, i in vocab.items() if t}


class KeywordIndex:
    """Per-study BM25 indexes, cached in memory and on disk, rebuilt when SQL says they are stale."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, StudyIndex] = {}
        self._lock = threading.Lock()

    def get(self, study: str, fingerprint: str, load_chunks: Callable[[], Iterable[IndexedChunk]]) -> StudyIndex:
        """The index of `study` matching `fingerprint`: from memory, else disk, else rebuilt."""
        with self._lock:
            cached = self._cache.get(study)
            if cached and cached.fingerprint == fingerprint:
                return cached
            index = self._load(study, fingerprint) or self._build(study, fingerprint, list(load_chunks()))
            self._cache[study] = index
            return index

    def _load(self, study: str, fingerprint: str) -> StudyIndex | None:
        folder = self.folder / _folder_name(study)
        meta_file = folder / "meta.json"
        if not meta_file.exists():
            return None
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            if meta.get("fingerprint") != fingerprint or meta.get("study") != study:
                return None
            model = None
            if meta["chunk_ids"]:
                import bm25s

                model = bm25s.BM25.load(str(folder / "bm25"), show_progress=False, verbosity=0)
            vocab = _document_frequencies(model) if model is not None else {}
            return StudyIndex(
                study, fingerprint, meta["chunk_ids"], np.array(meta["version_ids"]), model, vocab, meta["lexicon"]
            )
        except (OSError, ValueError, KeyError) as exc:
            log.warning("keyword index for study %s unreadable (%s); rebuilding", study, exc)
            return None

    def _build(self, study: str, fingerprint: str, chunks: list[IndexedChunk]) -> StudyIndex:
        folder = self.folder / _folder_name(study)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        model = None
        if chunks:
            import bm25s

            model = bm25s.BM25(k1=1.2, b=0.75)
            model.index([terms(c.text) or ["_"] for c in chunks], show_progress=False)
            model.save(str(tmp / "bm25"), show_progress=False)
        meta = {
            "study": study,
            "fingerprint": fingerprint,
            "chunk_ids": [c.chunk_id for c in chunks],
            "version_ids": [c.version_id for c in chunks],
            "lexicon": with_study_drug(learn((c.section, c.body) for c in chunks), _openings(chunks)),
        }
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)  # readers in other processes see the old index or the new one, never half
        vocab = _document_frequencies(model) if model is not None else {}
        return StudyIndex(
            study, fingerprint, meta["chunk_ids"], np.array(meta["version_ids"]), model, vocab, meta["lexicon"]
        )
