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
from functools import lru_cache
from typing import Protocol

import numpy as np

from knowledge.value_match import value_fit

DIGIT = re.compile(r"\d")
TOKEN = re.compile(r"\S+")
# What a rule sounds like: a coordinator asking "can we ...?" is answered by a sentence that permits or forbids.
RULE = re.compile(
    r"\b(?:must|should|may|can(?:not)?|required?|permitted|prohibited|allowed|not allowed|only if|unless|"
    r"within|at least|no later than|no more than|up to)\b",
    re.IGNORECASE,
)
YES_NO = re.compile(r"^\W*(?:can|could|is|are|do|does|did|should|may|must|will|would|ok|okay|are we|is it)\b", re.I)

SENTENCE_FEATURES = (
    "bias",
    "coverage",
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
    "coverage_order",
    "matched_share",
    "position",
    "introduces",
    "table_row",
    "continued",
    "quote_coverage",
    "quote_coverage_gap",
    "misses_key_word",
    "states_a_rule",
    "rule_for_yes_no",
    "misses_asked_word",
    "value_fits",
    "value_near",
)

PASSAGE_FEATURES = (
    "bias",
    "bm25_fusion",
    "vector_fusion",
    "bm25_first",
    "vector_first",
    "bm25_share",
    "route",
    "sentence",
    "sentence_share",
    "cosine",
    "cosine_gap",
    "question_cosine",
    "question_cosine_gap",
    "chunk_coverage",
    "heading_coverage",
    "reader_cosine",
    "reader_cosine_gap",
)

QUESTION_FEATURES = (
    "bias",
    "best_probability",
    "margin",
    "best_score",
    "best_coverage",
    "best_quote_coverage",
    "best_typed",
    "best_misses_key_word",
    "best_misses_asked_word",
    "top3_quote_coverage",
    "unknown_share",
    "type_asked",
    "type_found",
    "top_passage_cosine",
    "top_passage_sentence",
    "concepts",
    "typed_answer_found",
)

# The side each question feature's meaning puts it on (+1: more of it, more likely the documents answer;
# -1: less likely; absent: either, as fitted). The fit never puts a weight on the other side.
QUESTION_SIGNS = {
    "best_probability": 1,
    "best_score": 1,
    "best_coverage": 1,
    "best_quote_coverage": 1,
    "best_typed": 1,
    "top3_quote_coverage": 1,
    "type_found": 1,
    "top_passage_cosine": 1,
    "typed_answer_found": 1,
    "best_reranked": 1,
    "reader_best": 1,
    "best_misses_key_word": -1,
    "best_misses_asked_word": -1,
    "unknown_share": -1,
}


def signs(features: tuple[str, ...]) -> np.ndarray:
    """`QUESTION_SIGNS` lined up with `features` (0 where the fit may choose)."""
    return np.array([QUESTION_SIGNS.get(name, 0) for name in features], dtype=np.float64)


class Candidate(Protocol):
    """What the answer step knows of one candidate sentence (knowledge.answer.Pick)."""

    rank: int
    typed: bool
    other_doc: bool
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


@lru_cache(maxsize=16384)
def _shape(sentence: str) -> tuple[str, float, bool, bool, bool]:
    """What a sentence's features read of its text alone: the same passages come back question after
    question, so this is worked out once per sentence (the candidate table is the largest Python of an ask)."""
    text = " ".join(sentence.split())
    tokens = TOKEN.findall(text)
    digits = sum(1 for t in tokens if DIGIT.search(t)) / max(1, len(tokens))
    return text, digits, looks_like_heading(text), looks_like_table_row(text), bool(RULE.search(text))


def sentence_matrix(
    picks: Sequence[Candidate],
    concepts: int,
    type_asked: bool,
    quote_coverage: Sequence[float],
    misses_key: Sequence[bool],
    yes_no: bool = False,
    misses_asked: Sequence[bool] | None = None,
    values: tuple[float, ...] = (),
) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate; relative features compare it with the others. `values`: the
    participant's values the question gives (knowledge.value_match), held against each sentence's limits."""
    if not picks:
        return np.zeros((0, len(SENTENCE_FEATURES)), dtype=np.float32)
    covs = np.array([p.coverage for p in picks], dtype=np.float64)
    quote_covs = np.array(quote_coverage, dtype=np.float64)
    cov_order = np.argsort(np.argsort(-covs, kind="stable"), kind="stable")
    best_cov, best_quote = covs.max(), quote_covs.max()
    rows = []
    for i, p in enumerate(picks):
        text, digits, heading, table_row, rule = _shape(p.text)
        fits, near = value_fit(text, values)
        rows.append(
            (
                1.0,
                p.coverage,
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
                float(heading),
                best_cov - p.coverage,
                min(int(cov_order[i]), 8) / 8,
                p.matched / max(1, concepts),
                min(p.position, 10) / 10,
                float(text.endswith(":")),
                float(table_row),
                float(p.continued is not None),
                quote_covs[i],
                best_quote - quote_covs[i],
                float(misses_key[i]),
                float(rule),
                float(yes_no and rule),
                float(bool(misses_asked and misses_asked[i])),
                fits,
                near,
            )
        )
    return np.array(rows, dtype=np.float32)


class Retrieved(Protocol):
    """What retrieval knows of one candidate passage (knowledge.retrieval.Candidate)."""

    bm25: float
    bm25_rank: int | None
    vec_rank: int | None
    route: float
    sentence: float


def passage_matrix(
    candidates: Sequence[Retrieved],
    cosines: Sequence[float],
    question_cosines: Sequence[float],
    chunk_coverage: Sequence[float],
    heading_coverage: Sequence[float],
    reader_cosines: Sequence[float] | None = None,
) -> np.ndarray:
    """One row of PASSAGE_FEATURES per candidate passage: both rankings, how well its best sentence covers
    the question, and its stored vector against the expanded and the raw question and against the reader's
    vector of the question (the raw question's cosine stands in when no reader is installed)."""
    if not candidates:
        return np.zeros((0, len(PASSAGE_FEATURES)), dtype=np.float32)
    reader_cosines = question_cosines if reader_cosines is None else reader_cosines
    top_reader = max(reader_cosines)
    top_bm25 = max(c.bm25 for c in candidates) or 1.0
    top_sentence = max(c.sentence for c in candidates) or 1.0
    top_cos, top_qcos = max(cosines), max(question_cosines)
    rows = [
        (
            1.0,
            1 / (60 + c.bm25_rank) if c.bm25_rank else 0.0,
            1 / (60 + c.vec_rank) if c.vec_rank else 0.0,
            1 / (1 + c.bm25_rank) if c.bm25_rank else 0.0,
            1 / (1 + c.vec_rank) if c.vec_rank else 0.0,
            c.bm25 / top_bm25,
            c.route,
            c.sentence,
            c.sentence / top_sentence,
            cos,
            cos - top_cos,
            qcos,
            qcos - top_qcos,
            whole,
            heading,
            rcos,
            rcos - top_reader,
        )
        for c, cos, qcos, whole, heading, rcos in zip(
            candidates, cosines, question_cosines, chunk_coverage, heading_coverage, reader_cosines, strict=True
        )
    ]
    return np.array(rows, dtype=np.float32)


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))
