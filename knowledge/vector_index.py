"""The vector side of retrieval: Chroma through langchain-chroma, with our offline embeddings.

The embedded persistent client lives under the index folder; with SITELINE_CHROMA_HOST set, a
Chroma server is used instead (optionally over TLS, with a token). Telemetry is off, and the
collection is created without Chroma's default embedding function (which would download a
model), so reopening never touches the network. Every query carries a `where` filter on study
(and on current version, or the versions asked for): other studies' chunks are never candidates.
Questions on versions whose vectors are kept in memory are answered exactly from them, inside the
same study and version filter (`VectorIndex.search`).
A server that cannot be reached, or refuses the token, is one clear `VectorStoreUnavailable`.
The embedded store is shared between processes through `knowledge.index_lock`: writes one at a time,
each from a copy of the index reloaded from disk if another process wrote since, and reads never
during a write.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.settings import Settings
from knowledge.embedding import DIMENSIONS, MiniLmEmbeddings
from knowledge.index_lock import Held, IndexBusy, IndexLock, LockUnusable

log = logging.getLogger("siteline.knowledge")

COLLECTION = "siteline_chunks"
BATCH = 1000
STORED_CACHE = 20_000  # stored vectors kept in memory (~30 MB); the same chunks come back question after question
EXACT_ROWS = 60_000  # chunks searched exactly, in memory (~90 MB of vectors); beyond that, Chroma's HNSW index
METADATA_PAGE = 5_000  # vectors whose metadata one read returns (knowledge.reindex)


@dataclass(frozen=True)
class _Block:
    """One document version's stored vectors, for the exact search."""

    version_id: int
    study: str
    ids: list[str]
    matrix: np.ndarray  # (rows, DIMENSIONS) float32, unit length


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    similarity: float
    version_id: int


class VectorStoreUnavailable(RuntimeError):
    """The Chroma server could not be reached or refused our credentials (the message says which)."""


def server_address(settings: Settings) -> str:
    return f"{'https' if settings.chroma_ssl else 'http'}://{settings.chroma_host}:{settings.chroma_port}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _why(settings: Settings, exc: BaseException) -> str | None:
    """What went wrong talking to the server, in words an operator can act on (None: not a server failure)."""
    import httpx
    from chromadb.errors import AuthorizationError, ChromaAuthError

    where = f"the Chroma server at {server_address(settings)}"
    for link in _chain(exc):
        if isinstance(link, (ChromaAuthError, AuthorizationError)) or (
            isinstance(link, httpx.HTTPStatusError) and link.response.status_code in (401, 403)
        ):
            return f"{where} refused the credentials; check SITELINE_CHROMA_TOKEN and SITELINE_CHROMA_TOKEN_HEADER"
        if isinstance(link, httpx.TransportError):
            if "CERTIFICATE_VERIFY_FAILED" in str(link) or "SSL" in str(link):
                return f"{where} failed the TLS handshake; check SITELINE_CHROMA_SSL and SITELINE_CHROMA_SSL_VERIFY"
            return f"{where} could not be reached ({type(link).__name__})"
    if isinstance(exc, ValueError) and "could not connect" in str(exc).lower():
        return f"{where} could not be reached"
    return None


def _damaged(settings: Settings, exc: BaseException) -> str | None:
    """What is wrong with the embedded store's files (None: not a file problem). Chroma's own errors (its SQLite
    file "is not a database", "malformed"; ids its index cannot find) and a folder that is not one leave nothing
    a retry can mend: the message gives the recovery. Any other file-system error (no permission, a full disk)
    is named without it: deleting the index would not help."""
    from chromadb.errors import InternalError

    if not isinstance(exc, (InternalError, OSError)) or isinstance(exc, (TimeoutError, ConnectionError)):
        return None
    folder = settings.index_dir / "chroma"
    detail = (str(exc).strip().splitlines() or [""])[-1][:200]
    problem = f"the embedded vector index at {folder} cannot be used ({type(exc).__name__}: {detail})"
    if isinstance(exc, (InternalError, FileExistsError, NotADirectoryError, IsADirectoryError)):
        return f"{problem}; stop every Siteline process on this home, delete {folder} and run `siteline reindex`"
    return problem


@contextmanager
def server_errors(settings: Settings) -> Iterator[None]:
    """Turn a Chroma server's transport, TLS and auth failures, and an embedded store's damaged files, into one
    error that says what to check or do."""
    try:
        yield
    except Exception as exc:
        why = _why(settings, exc) if settings.chroma_host else _damaged(settings, exc)
        if why is None:
            raise
        raise VectorStoreUnavailable(why) from exc


def client_settings(settings: Settings) -> Any:
    """Chroma client settings: no telemetry; TLS verification and token auth for a server."""
    from chromadb.config import Settings as ChromaSettings

    options: dict[str, Any] = {"anonymized_telemetry": False}
    if settings.chroma_host:
        verify = settings.chroma_ssl_verify
        options["chroma_server_ssl_verify"] = verify if isinstance(verify, bool) else str(verify)
        if settings.chroma_token is not None:
            options["chroma_client_auth_provider"] = "chromadb.auth.token_authn.TokenAuthClientProvider"
            options["chroma_client_auth_credentials"] = settings.chroma_token.get_secret_value()
            options["chroma_auth_token_transport_header"] = settings.chroma_token_header
    return ChromaSettings(**options)


def make_client(settings: Settings) -> Any:
    import chromadb

    chroma_settings = client_settings(settings)
    if settings.chroma_host:
        with server_errors(settings):
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl, settings=chroma_settings
            )
    folder = settings.index_dir / "chroma"
    with server_errors(settings):
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
    """The Chroma collection of all chunks. `generation` is the catalog state this process last saw: the
    vectors kept in memory are dropped when it moves. The embedded store is reloaded from disk when the
    index lock counts writes this process has not seen (an embedded Chroma keeps its vector index in
    memory and does not see other writers); every Chroma call holds that lock, never the work around it."""

    def __init__(
        self,
        settings: Settings,
        embeddings: MiniLmEmbeddings,
        *,
        collection: str = COLLECTION,
        questions: Callable[[Sequence[str]], np.ndarray] | None = None,
        keep_texts: bool = False,
    ) -> None:
        self.settings = settings
        # Whether each chunk's text is stored beside its vector: only for a LangChain retriever reading this
        # collection (the bench's alternative). The product reads text from SQL; Chroma's copy cost half of every
        # upsert (it indexes documents for full-text search) and was a second place holding the documents' text.
        self.keep_texts = keep_texts
        self.embeddings = embeddings  # what made the stored vectors (ingest and reindex embed chunks with it)
        # How a question is embedded to search these vectors: the same model, but the reader's index embeds
        # each question alone (`Reader.question`: int8 activations are scaled per batch).
        self.embed_questions = questions or embeddings.embed
        self._name = collection
        self.generation: object = None
        # Stored vectors by chunk id, for the catalog generation they were read in: a chunk id's vector never
        # changes while its version exists, and any ingest (here or in another process) moves the generation.
        self._stored: dict[str, np.ndarray] = {}
        # Each version's vectors, kept across generations (a version's chunks never change once stored), the
        # least recently searched dropped first when EXACT_ROWS would be passed; versions left to Chroma's
        # index for this generation (over EXACT_ROWS even so).
        self._blocks: dict[int, _Block] = {}
        self._searched: dict[int, int] = {}  # version id -> the count of searches when it was last searched
        self._searches = itertools.count()
        self._left_to_index: set[int] = set()
        self._loading: set[int] = set()  # versions the background thread is reading
        self.expected: dict[int, int] = {}  # chunks SQL holds per version (set by retrieval): fewer vectors is a loss
        self._warned: set[int] = set()
        self._load_lock = threading.Lock()
        self._loader = ThreadPoolExecutor(1, thread_name_prefix="vectors")
        self._lock = None if settings.chroma_host else IndexLock(settings.index_dir / "chroma.lock")
        self._seen = -1  # the lock's write count this process's copy of the embedded store reflects
        self._used = False  # a call has run since the copy was opened (Chroma loads and catches up lazily)
        self.store: Any = None
        self._system: Any = None  # the embedded store's Chroma system, this index's own (see `_open`)
        self.reopen()

    def _open(self) -> tuple[Any, Any]:
        """The store, and the embedded store's Chroma system: a new copy from disk, never one another index
        of this process holds (Chroma shares one system per folder)."""
        from chromadb.api.client import SharedSystemClient
        from langchain_chroma import Chroma

        path = str(self.settings.index_dir / "chroma")
        if not self.settings.chroma_host:
            SharedSystemClient._identifier_to_system.pop(path, None)
            SharedSystemClient._identifier_to_refcount.pop(path, None)
        client = make_client(self.settings)
        system = None if self.settings.chroma_host else SharedSystemClient._identifier_to_system.get(path)
        with server_errors(self.settings):
            store = Chroma(
                collection_name=self._name,
                embedding_function=self.embeddings,
                client=client,
                collection_configuration={"hnsw": {"space": "cosine"}},
            )
        return store, system

    def reopen(self) -> None:
        """Drop this process's copy of the embedded index and every vector kept in memory, and load the index
        again from disk (opening may create the collection or migrate Chroma's tables: a write)."""
        self._forget()
        if self._lock is None:
            self._reload()
            return
        with self._locked(self._lock.exclusive) as held:
            self._reload()
            self._seen = held.writes

    def _reload(self) -> None:
        """A new copy of the store (under the exclusive lock when embedded). The vectors kept in memory stay:
        a chunk's vector never changes while its version exists, and the catalog generation drops them."""
        old = self._system
        self.store, self._system = self._open()
        self._used = False
        if old is not None:  # its native threads and open files go now, not at some later garbage collection
            old.stop()

    @contextmanager
    def _locked(self, how: Callable[[], AbstractContextManager[Held]]) -> Iterator[Held]:
        """The index lock, or `VectorStoreUnavailable` saying another process kept it too long."""
        try:
            with how() as held:
                yield held
        except IndexBusy as exc:
            raise VectorStoreUnavailable(f"the embedded vector index is busy: {exc}") from exc
        except LockUnusable as exc:
            raise VectorStoreUnavailable(str(exc)) from exc

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Write alone, from a copy no older than the files; the write is counted for the other processes.
        Chroma has the write in its log (SQLite) when the call returns: nothing is left to flush."""
        if self._lock is None:
            yield
            return
        with self._locked(self._lock.exclusive) as held:
            if held.writes != self._seen:
                self._reload()
            try:
                yield
            finally:  # a write that failed half way still changed the files
                self._seen, self._used = held.count_write(), True

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Read while no process writes: shared when this copy is current and already loaded, else alone
        (loading brings the copy up to date from Chroma's log, and may save it: a write)."""
        if self._lock is None:
            yield
            return
        if self._used:
            with self._locked(self._lock.shared) as held:
                if held.writes == self._seen:
                    yield
                    return
        with self._locked(self._lock.exclusive) as held:
            if held.writes != self._seen:
                self._reload()
                self._seen = held.writes
            yield
            self._used = True

    def ensure_fresh(self, generation: object) -> None:
        """When the catalog changed since this process last looked (another process ingested): drop the versions
        whose vectors were incomplete (a reindex may have filled them) and try again those left to Chroma's index;
        keep the rest, which no ingest changes (the first question on every study would otherwise search Chroma's
        index again after any ingest anywhere). The embedded store itself is reloaded by the index lock."""
        if generation != self.generation:
            kept = {v: b for v, b in list(self._blocks.items()) if len(b.ids) >= self.expected.get(v, 0)}
            self._blocks, self._left_to_index = kept, set()
            with self._load_lock:
                self._loading = set()
        self.generation = generation

    def _forget(self, versions: set[int] | None = None, ids: Sequence[str] = ()) -> None:
        """Drop the vectors kept in memory: every one, or those of the versions and chunk ids a write touched
        (new dicts: a question reading the old ones finishes with them)."""
        if versions is None:
            self._stored, self._blocks = {}, {}
        else:
            gone = set(ids)
            self._stored = {i: v for i, v in list(self._stored.items()) if i not in gone}
            self._blocks = {v: b for v, b in list(self._blocks.items()) if v not in versions}
        self._left_to_index = set()
        with self._load_lock:
            self._loading = set()

    @property
    def name(self) -> str:
        """The Chroma collection's name (one per embedding model: see `knowledge.service.index_for`)."""
        return self._name

    @property
    def collection(self) -> Any:
        return self.store._collection

    def add(self, ids: list[str], texts: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Store precomputed vectors (ingest embeds once, with a progress bar, before writing)."""
        try:
            with server_errors(self.settings), self._writing():
                for start in range(0, len(ids), BATCH):
                    end = start + BATCH
                    self.collection.upsert(
                        ids=ids[start:end],
                        embeddings=vectors[start:end],
                        metadatas=metadatas[start:end],
                        **({"documents": texts[start:end]} if self.keep_texts else {}),
                    )
        finally:  # after the write: a question reading meanwhile cannot leave an old vector behind
            self._forget({int(m["version_id"]) for m in metadatas if "version_id" in m}, ids)

    def delete(self, ids: list[str]) -> None:
        try:
            with server_errors(self.settings), self._writing():
                for start in range(0, len(ids), BATCH):
                    self.collection.delete(ids=ids[start : start + BATCH])
        finally:
            self._forget()

    def set_current(self, version_id: int, current: bool) -> None:
        """Flip the `current` flag of every chunk of one document version."""
        with server_errors(self.settings), self._writing():
            found = self.collection.get(where={"version_id": int(version_id)}, include=[])
            ids = found["ids"]
            for start in range(0, len(ids), BATCH):
                batch = ids[start : start + BATCH]
                self.collection.update(ids=batch, metadatas=[{"current": current}] * len(batch))

    def search(
        self, vector: Sequence[float], studies: Sequence[str], k: int, *, version_ids: Sequence[int] | None = None
    ) -> list[VectorHit]:
        """The k nearest chunks inside the filter, with cosine similarity: exactly, from the versions' vectors
        kept in memory, when they fit (profiled under 20 concurrent asks, Chroma's filtered query was ~9 % of
        the CPU; against a Chroma server it is a round trip per question), else by Chroma's HNSW index."""
        if not studies or k <= 0:
            return []
        blocks = self._blocks_of(version_ids) if version_ids is not None else None
        if blocks is not None:
            return _nearest(np.asarray(vector, dtype=np.float32), [b for b in blocks if b.study in studies], k)
        query = {
            "query_embeddings": [np.asarray(vector, dtype=np.float32)],
            "n_results": k,
            "where": study_filter(studies, version_ids=version_ids),
            "include": ["distances", "metadatas"],
        }
        with server_errors(self.settings):
            try:
                with self._reading():
                    result = self.collection.query(**query)
            except Exception as exc:  # chromadb.errors.InternalError: ids written by another process
                if "InternalError" not in type(exc).__name__:
                    raise
                self.reopen()
                with self._reading():
                    result = self.collection.query(**query)
        ids = result["ids"][0] if result["ids"] else []
        distances = result["distances"][0] if result.get("distances") else []
        metadatas = result["metadatas"][0] if result.get("metadatas") else []
        return [
            VectorHit(i, 1.0 - float(d), int(m["version_id"]))
            for i, d, m in zip(ids, distances, metadatas, strict=False)
        ]

    def _blocks_of(self, version_ids: Sequence[int]) -> list[_Block] | None:
        """The versions' vectors kept in memory, or None: then Chroma's index answers this question while a
        background thread reads the missing versions (the first question on a study pays no extra wait)."""
        wanted = [int(v) for v in dict.fromkeys(version_ids)]
        blocks, left = self._blocks, self._left_to_index  # this generation's own: a reset cannot mix them
        if any(v in left for v in wanted):
            return None
        held = [blocks.get(v) for v in wanted]  # get: the loader may drop a version meanwhile (`_make_room`)
        missing = [v for v, b in zip(wanted, held, strict=True) if b is None]
        if not missing:
            now = next(self._searches)
            for v in wanted:
                self._searched[v] = now
            return [b for b in held if b is not None]
        with self._load_lock:
            todo = [v for v in missing if v not in self._loading]
            self._loading.update(todo)
        if todo:
            self._loader.submit(self._load_logged, blocks, left, todo)
        return None

    def load(self, version_ids: Sequence[int]) -> None:
        """Read the versions' vectors now (what the background thread does), for this generation."""
        self._load(self._blocks, self._left_to_index, [int(v) for v in version_ids])

    def _load_logged(self, blocks: dict[int, _Block], left: set[int], version_ids: list[int]) -> None:
        try:
            self._load(blocks, left, version_ids)
        except Exception:  # the server went away: the next question asks again
            log.warning("could not read stored vectors for the exact search; Chroma's index answers meanwhile")
        finally:
            with self._load_lock:
                self._loading.difference_update(version_ids)

    def _load(self, blocks: dict[int, _Block], left: set[int], version_ids: list[int]) -> None:
        for v in version_ids:
            if v in blocks or v in left:
                continue
            with server_errors(self.settings), self._reading():  # the study from one row: metadata costs 2x
                first = self.collection.get(where={"version_id": v}, limit=1, include=["metadatas"])
                found = self.collection.get(where={"version_id": v}, include=["embeddings"])
            if not self._make_room(blocks, len(found["ids"]), keep=set(version_ids)):
                left.add(v)
                continue
            study = str(first["metadatas"][0]["study"]) if first["metadatas"] else ""
            matrix = np.asarray(found["embeddings"], dtype=np.float32).reshape(-1, DIMENSIONS)
            blocks[v] = _Block(v, study, list(found["ids"]), matrix)
            self._check_complete(v, len(found["ids"]))

    def _make_room(self, blocks: dict[int, _Block], rows: int, keep: set[int]) -> bool:
        """Whether `rows` more vectors fit under EXACT_ROWS, after dropping the versions searched least recently
        (superseded versions and quiet studies) other than those being read now."""
        held = sum(len(b.ids) for b in list(blocks.values()))  # a copy: another thread may be loading
        if held + rows <= EXACT_ROWS:
            return True
        for v in sorted((v for v in list(blocks) if v not in keep), key=lambda v: self._searched.get(v, -1)):
            gone = blocks.pop(v, None)
            held -= len(gone.ids) if gone else 0
            if held + rows <= EXACT_ROWS:
                return True
        return False

    def _check_complete(self, version_id: int, held: int) -> None:
        """Say once when a version has fewer vectors than stored chunks (a deleted, damaged or restored index):
        its answers then come from keywords alone, which nothing else would tell an operator."""
        stored = self.expected.get(version_id)
        if stored is None or held >= stored:
            return
        with self._load_lock:  # the background loader and a caller may read the same version at once
            if version_id in self._warned:
                return
            self._warned.add(version_id)
        log.warning(
            "document version %s: %d of its %d stored chunks have a vector; the others are found by keywords "
            "alone until `siteline reindex` (or ingesting the same files again) embeds them",
            version_id, held, stored,
        )  # fmt: skip

    def vectors_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (no embedding run): lets retrieval compare the question with keyword
        candidates the vector search did not return. Kept in memory (profiled under 20 concurrent asks:
        reading the same 40 vectors from Chroma for every question was ~8 % of the CPU)."""
        if not ids:
            return {}
        stored = self._stored  # the generation's own dict: a concurrent reset cannot mix generations
        missing = [i for i in dict.fromkeys(ids) if i not in stored]
        if missing:
            with self._reading():
                found = self.collection.get(ids=missing, include=["embeddings"])
            if len(stored) + len(missing) > STORED_CACHE:  # start afresh, keeping what this call needs
                stored = self._stored = {i: stored[i] for i in ids if i in stored}
            for i, v in zip(found["ids"], found["embeddings"], strict=True):
                stored[i] = np.asarray(v, dtype=np.float32)
        return {i: stored[i] for i in ids if i in stored}

    def stored_metadata(self, study: str) -> dict[str, dict[str, Any]]:
        """Every vector the study has in the index, by chunk id, with what was stored beside it (for
        `knowledge.reindex`); read a page at a time."""
        held: dict[str, dict[str, Any]] = {}
        offset = 0
        while True:
            with server_errors(self.settings), self._reading():
                page = self.collection.get(
                    where={"study": study}, include=["metadatas"], limit=METADATA_PAGE, offset=offset
                )
            held.update(zip(page["ids"], page["metadatas"], strict=True))
            if len(page["ids"]) < METADATA_PAGE:
                return held
            offset += METADATA_PAGE

    def count(self) -> int:
        with server_errors(self.settings), self._reading():
            return int(self.collection.count())


def _nearest(vector: np.ndarray, blocks: list[_Block], k: int) -> list[VectorHit]:
    """The k most similar rows of the blocks (dot product of unit vectors = cosine), best first."""
    hits: list[VectorHit] = []
    for block in blocks:
        if not block.ids:
            continue
        sims = block.matrix @ vector
        top = np.argpartition(-sims, k - 1)[:k] if len(sims) > k else np.arange(len(sims))
        hits += [VectorHit(block.ids[i], float(sims[i]), block.version_id) for i in top]
    hits.sort(key=lambda h: -h.similarity)
    return hits[:k]


def server_problem(settings: Settings) -> str | None:
    """None when the configured Chroma server answers its heartbeat (or none is configured), else why not."""
    if not settings.chroma_host:
        return None
    try:
        client = make_client(settings)
        with server_errors(settings):
            client.heartbeat()
    except VectorStoreUnavailable as exc:
        return str(exc)
    return None
