"""Vectors of labelled example texts, shipped with an engine and trusted only while current.

Escalation inference and triage's urgent signal both compare new text with labelled examples
by meaning (MiniLM). Their example vectors ship as `.npz` files stamped with a fingerprint of the
examples and the model, so a stale file is recomputed instead of trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.embedding import MODEL_ID

log = logging.getLogger(__name__)


class Labelled(Protocol):
    @property
    def text(self) -> str: ...


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def fingerprint(examples: Sequence[Labelled], model_id: str = MODEL_ID) -> str:
    digest = hashlib.sha256(model_id.encode())
    for ex in examples:
        digest.update(b"\0" + ex.text.encode())
    return digest.hexdigest()[:16]


def load_vectors(examples: Sequence[Labelled], embedder: Embedder, path: Path) -> np.ndarray:
    """The shipped vectors when their fingerprint matches the examples and model, else computed now."""
    stamp = fingerprint(examples)
    if path.exists():
        with np.load(path) as data:
            if str(data["fingerprint"]) == stamp and len(data["vectors"]) == len(examples):
                return data["vectors"].astype(np.float32)
        log.warning("%s is stale (examples or model changed); embedding %d examples now", path.name, len(examples))
    return embedder.embed([e.text for e in examples])


def save_vectors(examples: Sequence[Labelled], vectors: np.ndarray, path: Path) -> None:
    np.savez_compressed(path, vectors=vectors.astype(np.float16), fingerprint=fingerprint(examples))


def read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The labelled rows of a JSONL file with their line numbers; every row is an object with a text.
    Each engine then checks its own label field, naming the line."""
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not str(row.get("text") or "").strip():
            raise ValueError(f"{path.name}:{n}: text is missing")
        rows.append((n, row))
    return rows
