"""Sentence vectors for the answer step's reader (knowledge.reader), cached; and the typed-answer floor.

Lexical coverage alone (the share of the question's rare words a sentence repeats) breaks on chat
questions: a casual word ("booked", "vacation", "picture") that the answer does not repeat drags
a correct sentence down, while a wrong sentence that repeats the words looks good. So the answer
model also sees what a sentence *means*, through the reader's cosines for its first candidates;
the same passages answer many questions, so their vectors are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np

# A typed value (phone number, time of day, amount in a named unit) must sit in a sentence about the question:
# correct ones cover >= 0.66 of it, "Medical Monitor ... contact information" for a phone number less.
HARD_TYPE_COVERAGE = 0.55
CACHE_SIZE = 4096

Embed = Callable[[Sequence[str]], Sequence[Any]]  # a vector per text (an array's rows), or what the reader keeps


class SentenceVectors:
    """Sentence vectors with a small LRU cache: the same passages answer many questions. Thread-safe; the
    embedding itself runs outside the lock, so concurrent asks do not queue on it. A text another ask is
    embedding right now is waited for, not embedded again: asks arriving together about the same passages
    (a burst after an announcement; a client's retry) cost one embedding, not one each. On a new study a
    cold pass over eight candidates is the largest part of an ask (~0.5 s of CPU for long table rows)."""

    def __init__(self, embed: Embed, size: int = CACHE_SIZE) -> None:
        self._embed = embed
        self._size = size
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self._pending: dict[str, Future[Any]] = {}  # texts being embedded by some ask now
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every vector (benchmarks measure a cold cache)."""
        with self._lock:
            self._cache.clear()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(self.values(texts))

    def values(self, texts: Sequence[str]) -> list[Any]:
        """What `embed` gave for each text, from the cache where it is there (a vector; for the reader, a vector
        with its tokens' vectors)."""
        if not texts:
            return []
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
            for t in known:
                self._cache.move_to_end(t)
            missing = [t for t in dict.fromkeys(texts) if t not in known]
            theirs = {t: self._pending[t] for t in missing if t in self._pending}
            mine = [t for t in missing if t not in theirs]
            promised: dict[str, Future[Any]] = {t: Future() for t in mine}
            self._pending.update(promised)
        if mine:
            known |= self._compute(mine, promised)
        known |= {t: future.result() for t, future in theirs.items()}
        return [known[t] for t in texts]

    def _compute(self, texts: list[str], promised: dict[str, Future[Any]]) -> dict[str, Any]:
        """Embed `texts`, keep them, and hand them to whoever waits; a failure reaches the waiters too."""
        try:
            fresh = dict(zip(texts, self._embed(texts), strict=True))
        except BaseException as exc:
            with self._lock:
                for t in texts:
                    self._pending.pop(t, None)
            for future in promised.values():
                future.set_exception(exc)
            raise
        with self._lock:
            for text, vec in fresh.items():
                self._cache[text] = vec
                self._pending.pop(text, None)
                if len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        for text, future in promised.items():
            future.set_result(fresh[text])
        return fresh
