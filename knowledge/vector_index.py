"""The vector side of retrieval: Chroma through langchain-chroma, with our offline embeddings.

The embedded persistent client lives under the index folder; with SITELINE_CHROMA_HOST set, a
Chroma server is used instead. Telemetry is off, and the collection is created without Chroma's
default embedding function (which would download a model), so reopening never touches the
network. Every query carries a `where` filter on study (and on current version, or the version
asked for): other studies' chunks are never candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.settings import Settings
from knowledge.embedding import MiniLmEmbeddings

COLLECTION = "siteline_chunks"
BATCH = 1000


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    similarity: float
    version_id: int


def make_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
    folder = settings.index_dir / "chroma"
    folder.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(folder), settings=chroma_settings)


def study_filter(studies: Sequence[str], *, version_ids: Sequence[int] | None = None) -> dict[str, Any]:
    """The Chroma `where` clause: these studies, and either the given versions or current ones."""
    study = {"study": studies[0]} if len(studies) == 1 else {"study": {"$in": list(studies)}}
    if version_ids is not None:
        versions = (
            {"version_id": int(version_ids[0])}
            if len(version_ids) == 1
            else {"version_id": {"$in": [int(v) for v in version_ids]}}
        )
        return {"$and": [study, versions]}
    return {"$and": [study, {"current": True}]}


class VectorIndex:
    """The Chroma collection of all chunks. `generation` is the catalog state this process last saw:
    when another process has ingested since, the embedded index is reloaded from disk before use
    (an embedded Chroma keeps its vector index in memory and does not see other writers)."""

    def __init__(self, settings: Settings, embeddings: MiniLmEmbeddings, *, collection: str = COLLECTION) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self._name = collection
        self.generation: object = None
        self.store = self._open()

    def _open(self) -> Any:
        from langchain_chroma import Chroma

        return Chroma(
            collection_name=self._name,
            embedding_function=self.embeddings,
            client=make_client(self.settings),
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def reopen(self) -> None:
        """Drop this process's copy of the embedded index and load it again from disk."""
        if not self.settings.chroma_host:
            from chromadb.api.client import SharedSystemClient

            path = str(self.settings.index_dir / "chroma")
            SharedSystemClient._identifier_to_system.pop(path, None)
            SharedSystemClient._identifier_to_refcount.pop(path, None)
        self.store = self._open()

    def ensure_fresh(self, generation: object) -> None:
        """Reload when the catalog changed since this process last looked (another process ingested)."""
        if self.generation is not None and generation != self.generation:
            self.reopen()
        self.generation = generation

    @property
    def collection(self) -> Any:
        return self.store._collection

    def add(self, ids: list[str], texts: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Store precomputed vectors (ingest embeds once, with a progress bar, before writing)."""
        for start in range(0, len(ids), BATCH):
            end = start + BATCH
            self.collection.upsert(
                ids=ids[start:end],
                embeddings=vectors[start:end],
                documents=texts[start:end],
                metadatas=metadatas[start:end],
            )

    def delete(self, ids: list[str]) -> None:
        for start in range(0, len(ids), BATCH):
            self.collection.delete(ids=ids[start : start + BATCH])

    def set_current(self, version_id: int, current: bool) -> None:
        """Flip the `current` flag of every chunk of one document version."""
        found = self.collection.get(where={"version_id": int(version_id)}, include=[])
        ids = found["ids"]
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            self.collection.update(ids=batch, metadatas=[{"current": current}] * len(batch))

    def search(
        self, vector: Sequence[float], studies: Sequence[str], k: int, *, version_ids: Sequence[int] | None = None
    ) -> list[VectorHit]:
        """The k nearest chunks inside the filter, with cosine similarity."""
        if not studies or k <= 0:
            return []
        query = {
            "query_embeddings": [np.asarray(vector, dtype=np.float32)],
            "n_results": k,
            "where": study_filter(studies, version_ids=version_ids),
            "include": ["distances", "metadatas"],
        }
        try:
            result = self.collection.query(**query)
        except Exception as exc:  # chromadb.errors.InternalError: ids written by another process
            if "InternalError" not in type(exc).__name__:
                raise
            self.reopen()
            result = self.collection.query(**query)
        ids = result["ids"][0] if result["ids"] else []
        distances = result["distances"][0] if result.get("distances") else []
        metadatas = result["metadatas"][0] if result.get("metadatas") else []
        return [
            VectorHit(i, 1.0 - float(d), int(m["version_id"]))
            for i, d, m in zip(ids, distances, metadatas, strict=False)
        ]

    def count(self) -> int:
        return int(self.collection.count())


def server_problem(settings: Settings) -> str | None:
    """None when the configured Chroma server answers its heartbeat (or none is configured), else why not."""
    if not settings.chroma_host:
        return None
    try:
        make_client(settings).heartbeat()
    except Exception as exc:
        return f"Chroma server {settings.chroma_host}:{settings.chroma_port} did not answer ({type(exc).__name__})"
    return None
