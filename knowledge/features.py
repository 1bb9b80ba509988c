"""What the answer model sees of a candidate sentence and of a question, as numbers.

The same functions feed training (`python -m knowledge.fit`) and answering, so the fitted
weights always meet the features they were fitted on. Features describe the *kind* of evidence
(how much of the question a sentence covers, how close its meaning is, whether it holds the kind
of value asked for, whether it is a table row, a heading or a glossary line), never a document or
a study, so what is learned carries over to protocols the model has never seen.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

DIGIT = re.compile(r"\d")
TOKEN = re.compile(r"\S+")
TABLE_CELLS = re.compile(r"(?:\S+\s+){0,3}\S+")

SENTENCE_FEATURES = (
    "bias",
    "coverage",
    "cosine",
    "in_pool",
    "rank",
    "passage_score",
    "typed",
    "type_asked_missing",
    "other_doc",
    "log_length",
    "long",
    "short",
    "digit_share",
    "glossary",
    "reference",
    "heading_like",
    "coverage_gap",
    "cosine_gap",
    "coverage_order",
    "cosine_order",
    "matched_share",
    "position",
    "introduces",
    "table_row",
    "coverage_x_cosine",
    "continued",
    "quote_coverage",
    "quote_coverage_gap",
    "misses_key_word",
)

QUESTION_FEATURES = (
    "bias",
    "best_probability",
    "margin",
    "best_score",
    "best_coverage",
    "best_cosine",
    "best_quote_coverage",
    "best_misses_key_word",
    "top3_quote_coverage",
    "unknown_share",
    "type_asked",
    "type_found",
    "top_passage_cosine",
    "top_passage_sentence",
    "concepts",
)


class Candidate(Protocol):
    """What the answer step knows of one candidate sentence (knowledge.answer.Pick)."""

    rank: int
    typed: bool
    other_doc: bool
    cosine: float
    in_pool: bool
    passage_score: float
    coverage: float
    matched: int
    text: str
    position: int
    glossary: bool
    reference: bool
    continued: object  # the sentence's end in the next chunk, or None


def looks_like_table_row(text: str) -> bool:
    """A row flattened from a table: many short cells, many numbers, no sentence verb punctuation."""
    tokens = TOKEN.findall(text)
    if len(tokens) < 4:
        return False
    digits = sum(1 for t in tokens if DIGIT.search(t))
    return digits / len(tokens) > 0.3 and not text.rstrip().endswith(".")


def looks_like_heading(text: str) -> bool:
    words = text.split()
    return (
        len(words) <= 12
        and not text.rstrip().endswith((".", ":", ";"))
        and sum(w[:1].isupper() for w in words) >= 0.6 * len(words)
    )


def sentence_matrix(
    picks: Sequence[Candidate],
    concepts: int,
    type_asked: bool,
    quote_coverage: Sequence[float],
    misses_key: Sequence[bool],
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate; relative features compare it with the others."""
    if not picks:
        return np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float32)
    covs = np.array([p.coverage for p in picks], dtype=np.float64)
    quote_covs = np.array(quote_coverage, dtype=np.float64)
    coss = np.array([p.cosine for p in picks], dtype=np.float64)
    cov_order = np.argsort(np.argsort(-covs, kind="stable"), kind="stable")
    cos_order = np.argsort(np.argsort(-coss, kind="stable"), kind="stable")
    rows = []
    for i, p in enumerate(picks):
        text = " ".join(p.text.split())
        tokens = TOKEN.findall(text)
        digits = sum(1 for t in tokens if DIGIT.search(t)) / max(1, len(tokens))
        rows.append(
            (
                1.0,
                p.coverage,
                p.cosine,
                float(p.in_pool),
                min(p.rank, 10) / 10,
                p.passage_score,
                float(p.typed),
                float(type_asked and not p.typed),
                float(p.other_doc),
                math.log1p(len(text)) / 7,
                float(len(text) > 300),
                float(len(text) < 40),
                digits,
                float(p.glossary),
                float(p.reference),
                float(looks_like_heading(text)),
                covs.max() - p.coverage,
                coss.max() - p.cosine,
                min(int(cov_order[i]), 8) / 8,
                min(int(cos_order[i]), 8) / 8,
                p.matched / max(1, concepts),
                min(p.position, 10) / 10,
                float(text.endswith(":")),
                float(looks_like_table_row(text)),
                p.coverage * p.cosine,
                float(p.continued is not None),
                quote_covs[i],
                quote_covs.max() - quote_covs[i],
                float(misses_key[i]),
            )
        )
    return np.array(rows, dtype=np.float32)


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))
