"""A second signal for urgency: the nearest labelled examples, by sentence embedding.

The YAML rules know the wordings they were written from; a blind set written later failed because
two urgent updates used wordings no rule knew. A sentence embedding puts "pause all new
randomisations" next to "enrolment on hold" without sharing a word. An update the rules did not
mark urgent is compared (cosine similarity of MiniLM vectors from `knowledge.embedding`, offline)
with the labelled examples in `exemplars.jsonl`; when its nearest neighbours are clearly urgent
ones, the classifier raises it to urgent, naming the nearest example. It never lowers anything.

The examples come from hand-labelled files and the scenario truths (`python -m triage.semantic
build`); their vectors ship in `exemplars.npz`, stamped with a fingerprint of model and texts (a
stale file is recomputed in memory). The model loads lazily, once per process; if it cannot
load, that is logged once and the rules decide alone. Judgments are cached by normalised core
text, since reminders and resends repeat the same words.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from knowledge.exemplar_vectors import load_vectors, read_rows

log = logging.getLogger(__name__)

EXEMPLARS_PATH = Path(__file__).with_name("exemplars.jsonl")
VECTORS_PATH = Path(__file__).with_name("exemplars.npz")
PRIORITIES = ("urgent", "action", "fyi")
K = 7  # neighbours that vote
TEMPERATURE = 0.05  # vote weight exp((sim - best_sim) / T)
MIN_URGENT_SHARE = 0.7  # share of the neighbours' vote that must be urgent
MIN_SIMILARITY = 0.5  # the nearest urgent example must be at least this close
MIN_MARGIN = 0.03  # ...and this much closer than the nearest non-urgent example
CACHE_SIZE = 20_000


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Exemplar:
    text: str
    priority: str
    source: str = ""

    @property
    def title(self) -> str:
        """The example's first line (its subject), for a reason a person can read."""
        first = self.text.split("\n", 1)[0].strip() or self.text
        return first if len(first) <= 60 else first[:59] + "…"


@dataclass(frozen=True)
class Nearest:
    """Why an update was raised: the nearest urgent example, its similarity, and the urgent vote."""

    exemplar: Exemplar
    similarity: float
    urgent_share: float


def load_exemplars(path: Path = EXEMPLARS_PATH) -> list[Exemplar]:
    """Labelled examples from JSONL ({"text", "priority"[, "source"]}); an error names the line."""
    out = []
    for n, row in read_rows(path):
        if row.get("priority") not in PRIORITIES:
            raise ValueError(f"{path.name}:{n}: priority {row.get('priority')!r} is not one of {PRIORITIES}")
        out.append(Exemplar(row["text"], row["priority"], str(row.get("source") or "")))
    return out


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


class UrgentExemplars:
    """Nearest labelled examples by cosine similarity (vectors are L2-normalised)."""

    def __init__(self, exemplars: Sequence[Exemplar], vectors: np.ndarray, embedder: Embedder) -> None:
        if len(exemplars) != len(vectors) or not exemplars:
            raise ValueError(f"{len(exemplars)} examples but {len(vectors)} vectors")
        self.exemplars = list(exemplars)
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._urgent = np.array([e.priority == "urgent" for e in self.exemplars])
        self._embedder = embedder
        self._cache: OrderedDict[str, Nearest | None] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def build(cls, exemplars: Sequence[Exemplar], embedder: Embedder) -> UrgentExemplars:
        return cls(exemplars, embedder.embed([e.text for e in exemplars]), embedder)

    def urgent_neighbour(self, text: str) -> Nearest | None:
        """The nearest urgent example when the update is clearly closer to urgent examples than to
        the rest; None otherwise. Cached by normalised text."""
        key = normalise(text)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        result = self.decide(self._embedder.embed([text])[0])
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def decide(self, vector: np.ndarray, exclude: np.ndarray | None = None) -> Nearest | None:
        """The decision on one vector; `exclude` masks examples out (cross-validation)."""
        sims = self._vectors @ vector
        if exclude is not None:
            sims = np.where(exclude, -2.0, sims)
        top = np.argsort(-sims, kind="stable")[:K]
        weights = np.exp((sims[top] - sims[top[0]]) / TEMPERATURE)
        share = float(weights[self._urgent[top]].sum() / weights.sum())
        urgent_sims = np.where(self._urgent, sims, -2.0)
        other_sims = np.where(self._urgent, -2.0, sims)
        best_u, best_o = int(np.argmax(urgent_sims)), float(other_sims.max())
        if share >= MIN_URGENT_SHARE and sims[best_u] >= MIN_SIMILARITY and sims[best_u] - best_o >= MIN_MARGIN:
            return Nearest(self.exemplars[best_u], float(sims[best_u]), share)
        return None

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors


_lock = threading.Lock()
_state: dict[str, UrgentExemplars | None] = {}


def default_exemplars() -> UrgentExemplars | None:
    """The shipped examples, loaded on first use; None (rules only, logged once) if they cannot load."""
    if "model" in _state:
        return _state["model"]
    with _lock:
        if "model" not in _state:
            try:
                from knowledge.embedding import shared_embeddings

                embedder = shared_embeddings()
                exemplars = load_exemplars()
                _state["model"] = UrgentExemplars(exemplars, load_vectors(exemplars, embedder, VECTORS_PATH), embedder)
            except Exception as exc:  # a missing model must not stop triage: the rules still work
                log.warning("triage example model unavailable (%s: %s); judging by rules only", type(exc).__name__, exc)
                _state["model"] = None
    return _state["model"]
