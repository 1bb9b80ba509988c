"""The learned half of inference: the nearest labelled examples, by sentence embedding.

Word rules overfit the phrasings they were written from (category accuracy 0.63-0.78 on sets the
rules had not seen); a sentence embedding puts "the medicine arrived warm, ice pack melted" next
to "fridge alarm, kits at 11 °C" without sharing a word. Each issue is compared with the labelled
examples shipped in `exemplars.jsonl` (cosine similarity of MiniLM vectors from
`knowledge.embedding`, which runs offline): the nearest few vote on the category and their mean
level suggests the severity. `infer.py` combines the votes with the rules.

The model and the examples' vectors load lazily, once per process (`default_classifier`). The
vectors are shipped in `exemplars.npz`, stamped with a fingerprint of the model and the texts; a
stale or missing file is recomputed in memory (a few seconds) rather than trusted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from escalation.policy import CATEGORIES, SEVERITIES
from knowledge.exemplar_vectors import load_vectors, read_rows

log = logging.getLogger(__name__)

EXEMPLARS_PATH = Path(__file__).with_name("exemplars.jsonl")
VECTORS_PATH = Path(__file__).with_name("exemplars.npz")
K_CATEGORY = 7  # neighbours that vote on the category
K_SEVERITY = 15  # neighbours whose mean level suggests the severity
TEMPERATURE = 0.1  # vote weight exp((sim - best_sim) / T): a neighbour 0.1 less similar counts e^-1 as much
_LEVEL = {"low": 0.0, "medium": 1.0, "high": 2.0, "critical": 2.0}  # critical only ever comes from cues


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Exemplar:
    text: str
    category: str
    severity: str
    source: str = ""


@dataclass(frozen=True)
class Neighbour:
    exemplar: Exemplar
    similarity: float


@dataclass(frozen=True)
class Reading:
    """The nearest examples' opinion: category votes (sum 1), mean level (0 low .. 2 high), the neighbours."""

    votes: dict[str, float]
    level: float
    neighbours: list[Neighbour]

    def nearest(self, category: str | None = None) -> Neighbour | None:
        return next((n for n in self.neighbours if category in (None, n.exemplar.category)), None)


def load_exemplars(path: Path = EXEMPLARS_PATH) -> list[Exemplar]:
    """Labelled examples from JSONL ({"text", "category", "severity"[, "source"]}); errors name the line."""
    out = []
    for n, row in read_rows(path):
        if row.get("category") not in CATEGORIES:
            raise ValueError(f"{path.name}:{n}: category {row.get('category')!r} is not a category")
        if row.get("severity") not in SEVERITIES:
            raise ValueError(f"{path.name}:{n}: severity {row.get('severity')!r} is not a severity")
        out.append(Exemplar(row["text"], row["category"], row["severity"], str(row.get("source") or "")))
    return out


class ExemplarClassifier:
    """k-nearest labelled examples by cosine similarity (vectors are L2-normalised)."""

    def __init__(self, exemplars: Sequence[Exemplar], vectors: np.ndarray, embedder: Embedder) -> None:
        if len(exemplars) != len(vectors) or not exemplars:
            raise ValueError(f"{len(exemplars)} examples but {len(vectors)} vectors")
        self.exemplars = list(exemplars)
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._embedder = embedder
        self._category = np.array([CATEGORIES.index(e.category) for e in self.exemplars])
        self._level = np.array([_LEVEL[e.severity] for e in self.exemplars], dtype=np.float32)

    @classmethod
    def build(cls, exemplars: Sequence[Exemplar], embedder: Embedder) -> ExemplarClassifier:
        return cls(exemplars, embedder.embed([e.text for e in exemplars]), embedder)

    def read(self, text: str) -> Reading:
        return self.read_vector(self._embedder.embed([text])[0])

    def read_vector(self, vector: np.ndarray) -> Reading:
        sims = self._vectors @ vector
        k = max(K_CATEGORY, K_SEVERITY)
        top = np.argpartition(-sims, min(k, len(sims) - 1))[:k] if len(sims) > k else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        weights = np.exp((sims[top] - sims[top[0]]) / TEMPERATURE)
        votes = np.zeros(len(CATEGORIES))
        np.add.at(votes, self._category[top[:K_CATEGORY]], weights[:K_CATEGORY])
        votes /= votes.sum()
        sev_w = weights[:K_SEVERITY]
        level = float((sev_w * self._level[top[:K_SEVERITY]]).sum() / sev_w.sum())
        return Reading(
            votes={c: float(v) for c, v in zip(CATEGORIES, votes, strict=True) if v > 0},
            level=level,
            neighbours=[Neighbour(self.exemplars[i], float(sims[i])) for i in top],
        )

    def subset(self, keep: Sequence[int]) -> ExemplarClassifier:
        """The same model over some of the examples (cross-validation without embedding again)."""
        return ExemplarClassifier([self.exemplars[i] for i in keep], self._vectors[list(keep)], self._embedder)


_lock = threading.Lock()
_state: dict[str, ExemplarClassifier | None] = {}


def default_classifier() -> ExemplarClassifier | None:
    """The shipped examples' classifier, loaded on first use; None (rules only, logged once) if it cannot load."""
    if "model" in _state:
        return _state["model"]
    with _lock:
        if "model" not in _state:
            try:
                from knowledge.embedding import shared_embeddings

                embedder = shared_embeddings()
                exemplars = load_exemplars()
                _state["model"] = ExemplarClassifier(
                    exemplars, load_vectors(exemplars, embedder, VECTORS_PATH), embedder
                )
            except Exception as exc:  # a missing model must not stop escalations: the rules still work
                log.warning(
                    "escalation example model unavailable (%s: %s); inferring by rules only", type(exc).__name__, exc
                )
                _state["model"] = None
    return _state["model"]
