"""Sentence meaning for the answer model: a small pool of candidates compared with the question by MiniLM.

Lexical coverage alone (the share of the question's rare words a sentence repeats) breaks on chat
questions: a casual word ("booked", "vacation", "picture") that the answer does not repeat drags
a correct sentence down, while a wrong sentence that repeats the words looks good. So the answer
model (knowledge.answer_model) also sees what a sentence *means*: the cosine between the
question's MiniLM vector (already computed for the vector search) and the sentence's own vector.
Only a small pool of the best lexical candidates is embedded (one batch, cached), which keeps
`ask` fast.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

POOL = 5  # best lexical candidates (covering some of the question) whose meaning is compared with it
# A typed value (phone number, time of day, amount in a named unit) must sit in a sentence about the question:
# correct ones cover >= 0.66 of it, "Medical Monitor ... contact information" for a phone number less.
HARD_TYPE_COVERAGE = 0.55
CACHE_SIZE = 4096

Embed = Callable[[Sequence[str]], np.ndarray]


class SentenceVectors:
    """Sentence vectors with a small LRU cache: the same passages answer many questions."""

    def __init__(self, embed: Embed, size: int = CACHE_SIZE) -> None:
        self._embed = embed
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def clear(self) -> None:
        """Forget every vector (benchmarks measure a cold cache)."""
        self._cache.clear()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vec in zip(missing, self._embed(missing), strict=True):
                self._cache[text] = vec
                if len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        for t in texts:
            self._cache.move_to_end(t)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)


def cosines(
    query_vector: np.ndarray, texts: Sequence[str], vectors: Callable[[Sequence[str]], np.ndarray]
) -> list[float]:
    if not texts:
        return []
    return [float(x) for x in vectors(texts) @ query_vector]
