"""Category and severity of an escalation raised without them, inferred from its text with a reason.

Three layers, in order of authority:
1. Safety locks (`rules.py`, `default_rules.yaml`): death, life-threatening, hospitalised,
   anaphylaxis, SUSAR, ... file the issue as safety at (at least) the lock's level. Nothing after
   may move it out of safety or lower it: a missed safety signal costs more than a false alarm.
2. The nearest labelled examples (`classifier.py`) vote on the category, and the rules' scores are
   added to the votes as evidence (`RULE_WEIGHT`). The examples generalise to wording no rule has
   seen; the rules keep explicit terms decisive. Severity is the examples' mean level moved by the
   rules' high/low cues; **critical only from an explicit cue**, never from examples alone (a
   false critical wakes people at night).
3. An optional `Refiner` (an LLM) may adjust the result under `guard`.

Without the example model (not installed, failed to load) the rules decide alone, as before.
The weights were chosen by leave-one-file-out cross-validation (`python -m escalation.evaluate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from escalation.classifier import ExemplarClassifier, Neighbour, Reading, default_classifier
from escalation.policy import CATEGORIES, SEVERITIES
from escalation.rules import Cue, Rules, load_rules, normalise, parse_rules, read_categories, safety_lock, severity_cue

__all__ = ["Inference", "Refiner", "decide", "guard", "infer", "load_rules", "parse_rules"]

RULE_WEIGHT = 0.6  # rule scores (as shares of their total, at most 1) added to the examples' votes (sum 1)
MIN_SIMILARITY = 0.3  # below this the nearest example is unrelated (greetings, noise): the rules alone decide
SAME_WORDING = 0.97  # a labelled example this similar is the same issue: its labels are taken as they are
HIGH_CUE, LOW_CUE = 0.5, 0.8  # how far a high / low cue moves the examples' mean level (0 low .. 2 high)
LOW_BELOW, HIGH_FROM = 0.6, 1.5  # level → severity: < 0.6 low, < 1.5 medium, else high


@dataclass(frozen=True)
class Inference:
    category: str
    severity: str
    category_reason: str
    severity_reason: str
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return f"{self.category_reason}; {self.severity_reason}"


class Refiner(Protocol):
    """A second opinion (typically an LLM): returns (category, severity, reason) or None to keep the first reading."""

    def refine(self, summary: str, guess: Inference) -> tuple[str, str, str] | None: ...


def infer(
    summary: str,
    *,
    rules: Rules | None = None,
    refiner: Refiner | None = None,
    classifier: ExemplarClassifier | None = None,
    examples: bool = True,
) -> Inference:
    """Rules and nearest examples (`examples=False`: rules only), then the optional refiner under the guard."""
    rules = rules or load_rules()
    text = normalise(summary)
    model = classifier or (default_classifier() if examples else None)
    guess = decide(text, rules, model.read(text) if model else None)
    if refiner is None:
        return guess
    return guard(guess, refiner.refine(summary, guess))


def _quote(neighbour: Neighbour, limit: int = 60) -> str:
    text = neighbour.exemplar.text
    return f"“{text[: limit - 1]}…”" if len(text) > limit else f"“{text}”"


def decide(text: str, rules: Rules, reading: Reading | None) -> Inference:
    """The pure decision on a normalised text, given the examples' reading (None: rules only)."""
    found = read_categories(text, rules)
    lock = safety_lock(text, rules)
    if reading is not None and reading.neighbours[0].similarity < MIN_SIMILARITY:
        reading = None
    same = reading.neighbours[0] if reading and reading.neighbours[0].similarity >= SAME_WORDING else None
    if lock:
        category, why = "safety", f"safety: mentions {lock.words!r} (always safety)"
    elif same:
        category, mentions = same.exemplar.category, found.mentions(same.exemplar.category)
        why = f"{category}: " + (f"mentions {mentions}; " if mentions else "") + "same wording as a labelled example"
    elif reading:
        category, why = _combine(found.scores, reading, rules.priority), ""
        mentions, like = found.mentions(category), reading.nearest(category)
        if mentions:
            why = f"{category}: mentions {mentions}" + (f"; like {_quote(like)}" if like else "")
        else:
            assert like is not None  # the winner had votes, so one of the neighbours is of it
            why = f"{category}: like the labelled example {_quote(like)} (similarity {like.similarity:.2f})"
    else:
        category = found.best(rules.priority) or "other"
        why = f"{category}: mentions {found.mentions(category)}" if found.scores else "no rule matched"
    severity, why_sev = _severity(text, category, rules, reading, lock, same)
    return Inference(category, severity, why, why_sev, found.scores)


def _combine(scores: dict[str, float], reading: Reading, priority: list[str]) -> str:
    total = max(sum(scores.values()), 1.0)
    combined = {c: reading.votes.get(c, 0.0) + RULE_WEIGHT * scores.get(c, 0.0) / total for c in CATEGORIES}
    order = {c: i for i, c in enumerate(priority)}
    return max(combined, key=lambda c: (combined[c], -order.get(c, len(order))))


def _severity(
    text: str, category: str, rules: Rules, reading: Reading | None, lock: Cue | None, same: Neighbour | None
) -> tuple[str, str]:
    if lock and lock.level == "critical":
        return "critical", f"critical: {lock.words!r}"
    cue = severity_cue(text, category, rules)
    if cue.kind == "critical":
        return "critical", f"critical: {cue.words!r}"
    if same:
        severity = same.exemplar.severity
        why = f"{severity}: " + (f"{cue.words!r}, " if cue.level == severity and cue.kind != "default" else "")
        why += "as labelled for the same wording"
    elif reading:
        level = reading.level + (HIGH_CUE if cue.kind == "high" else -LOW_CUE if cue.kind == "low" else 0.0)
        severity = "low" if level < LOW_BELOW else "medium" if level < HIGH_FROM else "high"
        if cue.kind in ("high", "low") and severity == cue.level:
            why = f"{severity}: {cue.words!r}"
        else:
            like = reading.nearest(category) or reading.neighbours[0]
            why = f"{severity}: as for similar issues ({_quote(like, 40)})"
    else:
        severity, why = (
            cue.level,
            f"{cue.level}: {cue.words!r}" if cue.kind != "default" else f"{cue.level}: {cue.words}",
        )
    if lock and SEVERITIES.index(severity) < SEVERITIES.index(lock.level):
        severity, why = lock.level, f"{lock.level}: {lock.words!r}"
    if category == "safety" and severity == "low":
        severity, why = "medium", f"medium: a safety issue is never low ({why})"
    return severity, why


def guard(guess: Inference, opinion: tuple[str, str, str] | None) -> Inference:
    """Accept a refiner's opinion only where it cannot hide a safety signal."""
    if opinion is None:
        return guess
    category, severity, why = opinion
    if category not in CATEGORIES or severity not in SEVERITIES:
        return guess
    if guess.category == "safety":
        category = "safety"
    protected = guess.category == "safety" or guess.severity == "critical"
    if protected and SEVERITIES.index(severity) < SEVERITIES.index(guess.severity):
        severity = guess.severity
    if (category, severity) == (guess.category, guess.severity):
        return guess
    return Inference(category, severity, f"{category}: {why} (refined)", f"{severity}: refined", guess.scores)
