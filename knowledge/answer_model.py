"""The fitted answer model: which candidate sentence holds the answer, and whether any does.

Two logistic regressions over `knowledge.features`, fitted by `python -m knowledge.fit` on labelled
questions from many protocols (leave-one-document-out figures in docs/knowledge.md):

- the *sentence* model gives each candidate a probability of holding the answer; the best is quoted,
  and other places nearly as likely are offered as alternates;
- the *question* model turns the best candidates' evidence (and what the question asks that the
  documents never mention) into a probability that the documents answer at all; below the fitted
  line the engine abstains.

Plain numpy at run time: the weights are a small JSON file shipped with the package.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from knowledge.features import PASSAGE_FEATURES, QUESTION_FEATURES, SENTENCE_FEATURES, sigmoid

MODEL_FILE = Path(__file__).parent / "assets" / "answer_model.json"
# Another place is offered when its probability is at least this share of the best's, and at least the floor.
# Leave-one-document-out the first quote is right about 6 times in 10 when the engine answers, so "clearly sure" is
# rare: at 0.35 / 0.1 an alternate rescued 27 wrong first quotes of the 492; at 0.2 / 0.05, 37 (held out 11 -> 14),
# for 0.8 -> 1.1 alternates an answer (session 30); at 0.1 / 0.03, cited holds 0.677 -> 0.697 on the 652 and
# 0.729 -> 0.743 held out, for 1.4 alternates an answer; lower adds at most 0.007 (docs/knowledge.md, session 31).
ALTERNATE_SHARE = 0.1
ALTERNATE_FLOOR = 0.03
SURE = 0.75  # at or above this, the best sentence stands alone
MAX_ALTERNATES = 2

EXTRAS = ("unknown_share", "type_asked", "type_found", "top_passage_cosine", "top_passage_sentence", "concepts")


def fit_logistic(
    x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, steps: int = 60, signs: np.ndarray | None = None
) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method (the bias, column 0, is not penalised).

    `signs` (+1, -1 or 0 per column) keeps a weight on the side its feature's meaning gives it: more of
    the asked words found never makes an answer less likely. Without it, a training set whose refusals
    share the topic's words teaches the model to hold coverage *against* answering, which then refuses a
    short document whose one sentence says exactly what was asked. Active set: a weight that comes out on
    the wrong side is fixed at zero and the rest refitted, until none does."""
    x = x.astype(np.float64)
    free = np.ones(x.shape[1], dtype=bool)
    while True:
        w = _newton_logistic(x, y, l2=l2, steps=steps, free=free)
        if signs is None:
            return w
        wrong = free & (np.asarray(signs) * w < 0)
        if not wrong.any():
            return w
        free &= ~wrong


def _newton_logistic(x: np.ndarray, y: np.ndarray, *, l2: float, steps: int, free: np.ndarray) -> np.ndarray:
    w = np.zeros(x.shape[1])
    xs = x[:, free]
    penalty = np.full(xs.shape[1], l2)
    if free[0]:
        penalty[0] = 0.0
    v = np.zeros(xs.shape[1])
    for _ in range(steps):
        p = sigmoid(xs @ v)
        grad = xs.T @ (p - y) + penalty * v
        hess = (xs * (p * (1 - p))[:, None]).T @ xs + np.diag(penalty + 1e-6)
        step = np.linalg.solve(hess, grad)
        v -= step
        if np.abs(step).max() < 1e-6:
            break
    w[free] = v
    return w


def fit_choice(groups: list[tuple[np.ndarray, np.ndarray]], *, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """Conditional logit: per question, the right candidates should win the softmax over its candidates.

    `groups` holds (features, right) per question. Fitting which candidate wins *within* a question
    (rather than each candidate on its own) is what choosing needs: a sentence or a passage is only
    good compared with the others retrieved for the same question. Damped Newton; convex.
    """
    data = [(x.astype(np.float64), right) for x, right in groups if right.any()]
    dims = data[0][0].shape[1]
    penalty = np.full(dims, l2)
    penalty[0] = 0.0  # the bias cancels in a softmax; kept so weights line up with the features

    def loss(w: np.ndarray) -> float:
        total = 0.5 * float(penalty @ (w * w))
        for x, right in data:
            s = x @ w
            top = s.max()
            total += float(top + np.log(np.exp(s - top).sum()) - s[right].mean())
        return total

    w = np.zeros(dims)
    current = loss(w)
    for _ in range(steps):
        grad = penalty * w
        hess = np.diag(penalty + 1e-6)
        for x, right in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            mean = p @ x
            grad += mean - x[right].mean(axis=0)
            hess += (x * p[:, None]).T @ x - np.outer(mean, mean)
        step = np.linalg.solve(hess, grad)
        rate = 1.0
        while rate > 1e-4:  # halve the step until the loss goes down
            trial = loss(w - rate * step)
            if trial <= current:
                break
            rate /= 2
        w -= rate * step
        improved, current = current - trial, trial
        if improved < 1e-7:
            break
    return w


RERANK_FEATURES = ("bias", "first_score", "reader", "reader_best", "reader_words")
RERANK_QUESTION_FEATURES = ("best_reranked", "reader_best", "reader_margin", "reader_mean")
POOL = 8  # the candidates the reader compares with the question: the sentence model's first eight


@dataclass(frozen=True)
class Reading:
    """What the reader (knowledge.reader) found for each candidate it read: its cosine with the question, and
    how well its words meet the question's, word by word."""

    cosines: np.ndarray
    matches: np.ndarray


Read = Callable[[list[int]], Reading]  # candidate indexes -> what the reader found for each (cosine, word match)


@dataclass
class Reranker:
    """The second look: the sentence model's first `pool` candidates, re-judged with the reader's cosine
    (`knowledge.reader`), and the abstain decision taken again with what it read."""

    weights: np.ndarray  # RERANK_FEATURES
    question_weights: np.ndarray  # QUESTION_FEATURES + RERANK_QUESTION_FEATURES
    threshold: float
    pool: int = POOL
    floor: float = -1.0  # a best cosine below this (fitted: under 1% of answerable questions') is refused


@dataclass
class Decision:
    """What the model decided for one question."""

    order: list[int]  # candidate indexes, most likely to answer first
    probabilities: np.ndarray  # per candidate (0 for candidates the reranker did not read)
    abstain: bool
    alternates: list[int]


@dataclass
class AnswerModel:
    sentence_weights: np.ndarray
    question_weights: np.ndarray
    threshold: float
    passage_weights: np.ndarray | None = None  # None: passages stay in reciprocal-rank-fusion order
    reranker: Reranker | None = None  # None, or no reader installed: the sentence model decides alone

    # -- passages ---------------------------------------------------------------------------------

    def passage_order(self, passages: np.ndarray) -> list[int]:
        """Candidate passages, most likely to hold the answer first."""
        if self.passage_weights is None or not len(passages):
            return list(range(len(passages)))
        return [int(i) for i in np.argsort(-(passages.astype(np.float64) @ self.passage_weights), kind="stable")]

    # -- sentences --------------------------------------------------------------------------------

    def scores(self, sentences: np.ndarray) -> np.ndarray:
        return sentences.astype(np.float64) @ self.sentence_weights if len(sentences) else np.zeros(0)

    def probabilities(self, sentences: np.ndarray) -> np.ndarray:
        """How likely each candidate is to be the one that answers, among this question's candidates."""
        s = self.scores(sentences)
        if not len(s):
            return s
        p = np.exp(s - s.max())
        return p / p.sum()

    def ranked(self, sentences: np.ndarray) -> list[int]:
        """Candidate indexes, most likely first."""
        return [int(i) for i in np.argsort(-self.probabilities(sentences), kind="stable")]

    def alternates(self, sentences: np.ndarray, order: list[int], places: list[str] | None = None) -> list[int]:
        """Up to two other candidates from other places, when the best is not clearly right."""
        return _alternates(self.probabilities(sentences), order, places)

    # -- the decision -----------------------------------------------------------------------------

    def decide(self, sentences: np.ndarray, extras: np.ndarray, places: list[str], read: Read | None) -> Decision:
        """Which candidate answers, which others to offer, and whether to abstain; with the reader's second
        look when this model has a reranker and `read` compares candidates with the question."""
        if not len(sentences):
            return Decision([], np.zeros(0), True, [])
        if self.reranker is None or read is None:
            order = self.ranked(sentences)
            abstain = self.answer_probability(sentences, extras) < self.threshold
            probs = self.probabilities(sentences)
            return Decision(order, probs, abstain, _alternates(probs, order, places))
        r = self.reranker
        pool = self.pool(sentences, r.pool)
        reading = read(pool)
        cosines = np.asarray(reading.cosines, dtype=np.float64)
        pooled = self.reranked(sentences, pool, reading)
        probs = np.zeros(len(sentences))
        probs[pool] = pooled
        order = [pool[int(i)] for i in np.argsort(-pooled, kind="stable")]
        features = self.rerank_question_features(sentences, extras, pooled, cosines)
        probability = float(sigmoid(features @ r.question_weights))
        abstain = probability < r.threshold or float(cosines.max()) < r.floor
        return Decision(order, probs, abstain, _alternates(probs, order, places))

    def pool(self, sentences: np.ndarray, size: int) -> list[int]:
        """The sentence model's first `size` candidates: what the reader reads."""
        return [int(i) for i in np.argsort(-self.scores(sentences), kind="stable")[:size]]

    def rerank_features(self, sentences: np.ndarray, pool: list[int], reading: Reading) -> np.ndarray:
        first = self.scores(sentences)[pool]
        cosines = np.asarray(reading.cosines, dtype=np.float64)
        matches = np.asarray(reading.matches, dtype=np.float64)
        return np.stack(
            [
                np.ones(len(pool)),
                first - first.max(),
                cosines,
                (cosines == cosines.max()).astype(np.float64),
                matches - matches.max(),
            ],
            axis=1,
        )

    def reranked(self, sentences: np.ndarray, pool: list[int], reading: Reading) -> np.ndarray:
        """The second look's probabilities over the pool."""
        assert self.reranker is not None
        s = self.rerank_features(sentences, pool, reading) @ self.reranker.weights
        p = np.exp(s - s.max())
        return p / p.sum()

    def rerank_question_features(
        self, sentences: np.ndarray, extras: np.ndarray, pooled: np.ndarray, cosines: np.ndarray
    ) -> np.ndarray:
        ordered = np.sort(cosines)[::-1]
        # One candidate (a phone number asked for, and one sentence holds one): its margin is over nothing. A
        # sentinel far outside the cosines' range would be multiplied by whatever weight the fit gave the margin.
        margin = float(ordered[0] - ordered[1]) if len(ordered) > 1 else max(float(ordered[0]), 0.0)
        best = float(ordered[0])
        return np.concatenate(
            [self.question_features(sentences, extras), [float(pooled.max()), best, margin, float(cosines.mean())]]
        )

    # -- the question -----------------------------------------------------------------------------

    def question_features(self, sentences: np.ndarray, extras: np.ndarray) -> np.ndarray:
        probs = self.probabilities(sentences)
        ordered = np.sort(probs)[::-1]
        top = float(ordered[0]) if len(ordered) else 0.0
        second = float(ordered[1]) if len(ordered) > 1 else 0.0
        best = int(np.argmax(probs)) if len(probs) else None
        cov = float(sentences[best, SENTENCE_FEATURES.index("coverage")]) if best is not None else 0.0
        score = float(self.scores(sentences)[best]) if best is not None else -10.0
        quote_cov = sentences[:, SENTENCE_FEATURES.index("quote_coverage")]
        misses = float(sentences[best, SENTENCE_FEATURES.index("misses_key_word")]) if best is not None else 1.0
        top3 = float(quote_cov[np.argsort(-probs)[:3]].max()) if best is not None else 0.0
        best_quote = float(quote_cov[best]) if best is not None else 0.0
        typed = float(sentences[best, SENTENCE_FEATURES.index("typed")]) if best is not None else 0.0
        asked = float(sentences[best, SENTENCE_FEATURES.index("misses_asked_word")]) if best is not None else 1.0
        type_asked = float(extras[EXTRAS.index("type_asked")])
        return np.array(
            [
                *(1.0, top, top - second, score, cov, best_quote, typed, misses, asked, top3),
                *map(float, extras),
                type_asked * typed * best_quote,  # asked for a value, and the best quote about it holds one
            ],
            dtype=np.float64,
        )

    def answer_probability(self, sentences: np.ndarray, extras: np.ndarray) -> float:
        return float(sigmoid(self.question_features(sentences, extras) @ self.question_weights))

    # -- storage ----------------------------------------------------------------------------------

    @staticmethod
    def path() -> Path:
        return MODEL_FILE

    def save(self, path: Path | None = None) -> None:
        data = {
            "passage_features": list(PASSAGE_FEATURES),
            "passage_weights": _rounded(self.passage_weights),
            "sentence_features": list(SENTENCE_FEATURES),
            "sentence_weights": _rounded(self.sentence_weights),
            "question_features": list(QUESTION_FEATURES),
            "question_weights": _rounded(self.question_weights),
            "threshold": round(self.threshold, 6),
            "reranker": None
            if self.reranker is None
            else {
                "features": list(RERANK_FEATURES),
                "weights": _rounded(self.reranker.weights),
                "question_features": [*QUESTION_FEATURES, *RERANK_QUESTION_FEATURES],
                "question_weights": _rounded(self.reranker.question_weights),
                "threshold": round(self.reranker.threshold, 6),
                "pool": self.reranker.pool,
                "floor": round(self.reranker.floor, 6),
            },
        }
        (path or MODEL_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path | None = None, *, passages: bool = True) -> AnswerModel:
        """The fitted model; `passages=False` leaves the passage weights out (to refit them alone)."""
        data = json.loads((path or MODEL_FILE).read_text(encoding="utf-8"))
        if data["sentence_features"] != list(SENTENCE_FEATURES) or data["question_features"] != list(QUESTION_FEATURES):
            raise ValueError(f"{path or MODEL_FILE} was fitted on other features; run python -m knowledge.fit write")
        passage_weights = data.get("passage_weights") if passages else None
        if passage_weights is not None and data.get("passage_features") != list(PASSAGE_FEATURES):
            raise ValueError(
                f"{path or MODEL_FILE}: its passages were fitted on other features; run python -m knowledge.fit write"
            )
        r = data.get("reranker")
        if r is not None and (
            r["features"] != list(RERANK_FEATURES)
            or r["question_features"] != [*QUESTION_FEATURES, *RERANK_QUESTION_FEATURES]
        ):
            raise ValueError(
                f"{path or MODEL_FILE}'s reranker was fitted on other features; run python -m knowledge.fit write"
            )
        reranker = (
            None
            if r is None
            else Reranker(
                np.array(r["weights"]),
                np.array(r["question_weights"]),
                float(r["threshold"]),
                int(r["pool"]),
                float(r.get("floor", -1.0)),
            )
        )
        return cls(
            np.array(data["sentence_weights"]),
            np.array(data["question_weights"]),
            float(data["threshold"]),
            None if passage_weights is None else np.array(passage_weights),
            reranker=reranker,
        )


def _alternates(probs: np.ndarray, order: list[int], places: list[str] | None) -> list[int]:
    """Up to two other candidates from other places, when the best is not clearly right."""
    if not order:
        return []
    best = probs[order[0]]
    if best >= SURE:
        return []
    seen = {places[order[0]]} if places else set()
    out: list[int] = []
    for i in order[1:]:
        if probs[i] < max(ALTERNATE_FLOOR, ALTERNATE_SHARE * best):
            break
        place = places[i] if places else str(i)
        if place in seen:
            continue
        seen.add(place)
        out.append(i)
        if len(out) == MAX_ALTERNATES:
            break
    return out


def _rounded(weights: np.ndarray | None) -> list[float] | None:
    return None if weights is None else [round(float(w), 6) for w in weights]


@cache
def shipped_model() -> AnswerModel:
    return AnswerModel.load()
