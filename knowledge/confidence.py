"""How sure the engine is that a sentence answers the question: lexical coverage, meaning, and rank together.

Lexical coverage alone (the share of the question's rare words a sentence repeats) breaks on chat
questions: a casual word ("booked", "vacation", "picture") that the answer does not repeat drags
a correct sentence below any fixed line, while a wrong sentence that repeats the words passes.
So a sentence's confidence also counts what it *means*: the cosine between the question's MiniLM
vector (already computed for the vector search) and the sentence's own vector. Only a small pool
of the best lexical candidates is embedded (one batch, cached), which keeps `ask` fast.

The weights and the abstention line are fitted on three question sets written independently
(development, a blind chat set, the demo study's set): fitted on two, checked on the third; see
docs/knowledge.md for the trade-off.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

POOL = 10  # best lexical candidates (covering some of the question) whose meaning is compared with it
W_COVERAGE = 1.0
W_COSINE = 1.5
W_RANK = 0.03  # per place of the passage in the ranking
W_TYPED = 0.0  # fitted; the kind of value asked for steers the choice through TYPE_MARGIN instead
W_OTHER_DOC = 0.2  # the question named a document; this sentence is from another one
ABSTAIN_BELOW = 1.02
TYPE_MARGIN = 0.3  # a sentence holding the asked-for kind of value wins over a better one by less than this
MISSING_TYPE_PENALTY = 0.5  # the question asks for a value (how long, what temperature) no good candidate holds
# A typed value (phone number, time of day, amount in a named unit) must sit in a sentence about the question:
# correct ones cover >= 0.66 of it, "Medical Monitor ... contact information" for a phone number less.
HARD_TYPE_COVERAGE = 0.55
CACHE_SIZE = 4096

Embed = Callable[[Sequence[str]], np.ndarray]


class Scored(Protocol):
    rank: int
    typed: bool
    other_doc: bool
    cosine: float

    @property
    def coverage(self) -> float: ...


def confidence(coverage: float, cosine: float, rank: int, typed: bool, other_doc: bool) -> float:
    return (
        W_COVERAGE * coverage
        + W_COSINE * cosine
        - W_RANK * rank
        + (W_TYPED if typed else 0.0)
        - (W_OTHER_DOC if other_doc else 0.0)
    )


def choice(coverage: float, rank: int, other_doc: bool) -> float:
    """Which sentence to quote: meaning is left out, since MiniLM scores a sentence restating the question's topic
    ("Use of X may cause headache") above the one holding the answer ("acetaminophen may be administered")."""
    return W_COVERAGE * coverage - W_RANK * rank - (W_OTHER_DOC if other_doc else 0.0)


class SentenceVectors:
    """Sentence vectors with a small LRU cache: the same passages answer many questions."""

    def __init__(self, embed: Embed, size: int = CACHE_SIZE) -> None:
        self._embed = embed
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

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
