"""Category and severity of an escalation raised without them, inferred from its text with a reason.

Rules first (`default_rules.yaml`: weighted patterns, typo-tolerant keywords), so the result is
deterministic and explainable ("ip_supply: mentions fridge, 18 °C"). An optional `Refiner`
(e.g. an LLM) may then adjust it, but may never move an issue out of `safety` nor lower the
severity of a safety or critical issue: a missed safety signal costs more than a false alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol

import yaml
from rapidfuzz import fuzz

from escalation.policy import CATEGORIES, SEVERITIES

RULES_PATH = Path(__file__).with_name("default_rules.yaml")
_WORD = re.compile(r"[a-zà-ÿ]+")


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
    """A second opinion (typically an LLM): returns (category, severity, reason) or None to keep the rules'."""

    def refine(self, summary: str, guess: Inference) -> tuple[str, str, str] | None: ...


@dataclass(frozen=True)
class _Rule:
    weight: float
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Rules:
    priority: list[str]
    categories: dict[str, list[_Rule]]
    fuzzy: dict[str, list[str]]
    critical: list[tuple[str, re.Pattern[str]]]
    critical_fuzzy: list[str]
    high: list[re.Pattern[str]]
    low: list[re.Pattern[str]]
    soft: list[re.Pattern[str]]
    default_severity: dict[str, str]


def _compile(text: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(text, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"{where}: bad regex {text!r} ({exc})") from None


def parse_rules(doc: dict[str, Any], *, label: str = "rules") -> Rules:
    """Validate a rules document; errors name the entry."""
    cats: dict[str, list[_Rule]] = {}
    fuzzy: dict[str, list[str]] = {}
    for name, spec in (doc.get("categories") or {}).items():
        if name not in CATEGORIES:
            raise ValueError(f"{label}: categories.{name} is not a category")
        rules = []
        for i, item in enumerate(spec.get("rules") or []):
            if not (isinstance(item, list) and len(item) == 2):
                raise ValueError(f"{label}: categories.{name}.rules[{i}] must be [weight, regex or word list]")
            pattern = item[1]
            if isinstance(pattern, list):  # a lexicon: whole words or phrases, optional plural
                pattern = r"\b(" + "|".join(re.escape(str(w)) for w in pattern) + r")s?\b"
            rules.append(_Rule(float(item[0]), _compile(pattern, f"{label}: categories.{name}.rules[{i}]")))
        cats[name] = rules
        fuzzy[name] = [w.lower() for w in spec.get("fuzzy") or []]
    sev = doc.get("severity") or {}
    critical = [(scope, _compile(rx, f"{label}: severity.critical")) for scope, rx in sev.get("critical") or []]
    defaults = doc.get("default_severity") or {}
    for cat, value in defaults.items():
        if value not in SEVERITIES:
            raise ValueError(f"{label}: default_severity.{cat} {value!r} is not a severity")
    return Rules(
        priority=list(doc.get("priority") or CATEGORIES),
        categories=cats,
        fuzzy=fuzzy,
        critical=critical,
        critical_fuzzy=[w.lower() for w in sev.get("critical_fuzzy") or []],
        high=[_compile(rx, f"{label}: severity.high") for rx in sev.get("high") or []],
        low=[_compile(rx, f"{label}: severity.low") for rx in sev.get("low") or []],
        soft=[_compile(rx, f"{label}: severity.soft") for rx in sev.get("soft") or []],
        default_severity=defaults,
    )


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")), label=path.name)


def _normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def _near(text: str, term: str) -> str | None:
    """A word (or pair of words, for a two-word term) of `text` within typo distance of `term`."""
    words = _WORD.findall(text.lower())
    if " " in term:
        words = [f"{a} {b}" for a, b in pairwise(words)]
    return next((w for w in words if len(w) >= 5 and fuzz.ratio(w, term) >= 85), None)


def classify(text: str, rules: Rules) -> tuple[str, str, dict[str, float]]:
    """The best-scoring category, the words that decided it, and every category's score."""
    scores: dict[str, float] = {}
    evidence: dict[str, list[str]] = {}
    for name, cat_rules in rules.categories.items():
        spans: list[tuple[int, int]] = []
        hits: list[str] = []
        score = 0.0
        for rule in cat_rules:
            found = [m for m in rule.pattern.finditer(text) if m.group(0).strip()]
            if found:
                score += rule.weight
                spans += [m.span() for m in found]
                hits.append(found[0].group(0).strip())
        matched_text = " ".join(text[a:b].lower() for a, b in spans)
        for word in rules.fuzzy.get(name, []):
            if word in matched_text:
                continue
            near = _near(text, word)
            if near and near not in matched_text:
                score += 2
                hits.append(f"{near}≈{word}" if near != word else near)
        if score:
            scores[name], evidence[name] = score, hits
    if not scores:
        return "other", "no rule matched", scores
    order = {c: i for i, c in enumerate(rules.priority)}
    best = max(scores, key=lambda c: (scores[c], -order.get(c, len(order))))
    shown = ", ".join(dict.fromkeys(evidence[best]))
    return best, f"{best}: mentions {shown}", scores


_NEGATED = re.compile(r"\b(nothing|not|no|non)[- ](serious|severe|urgent|critical)\b", re.IGNORECASE)


def grade(text: str, category: str, rules: Rules) -> tuple[str, str]:
    """Severity with the cue that decided it: critical, high, low cues in turn, else the category default."""
    original, text = text, _NEGATED.sub(" ", text)  # "nothing serious" is not a cue for "serious"
    for scope, pattern in rules.critical:
        m = pattern.search(text)
        if m and (scope == "any" or category == "safety"):
            return "critical", f"critical: {m.group(0).strip()!r}"
    if category == "safety":
        for term in rules.critical_fuzzy:
            near = _near(text, term)
            if near:
                return "critical", f"critical: {near!r}≈{term!r}"
    for pattern in rules.high:
        m = pattern.search(text)
        if m:
            return "high", f"high: {m.group(0).strip()!r}"
    floor = "medium" if category == "safety" else "low"
    for pattern in rules.low:
        m = pattern.search(text)
        if m:
            return floor, f"{floor}: {m.group(0).strip()!r}"
    default = rules.default_severity.get(category, "medium")
    if category == "safety" and default == "high":
        for pattern in rules.soft:
            m = pattern.search(original)
            if m:
                return "medium", f"medium: {m.group(0).strip()!r}"
    return default, f"{default}: usual for {category}"


def infer(summary: str, *, rules: Rules | None = None, refiner: Refiner | None = None) -> Inference:
    """Rules, then the optional refiner under the safety guard."""
    rules = rules or load_rules()
    text = _normalise(summary)
    category, why_cat, scores = classify(text, rules)
    severity, why_sev = grade(text, category, rules)
    guess = Inference(category, severity, why_cat, why_sev, scores)
    if refiner is None:
        return guess
    return guard(guess, refiner.refine(summary, guess))


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


def accuracy(path: Path, *, rules: Rules | None = None) -> dict[str, Any]:
    """Category and severity accuracy over a labelled JSONL file ({"text", "category", "severity"})."""
    import json

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    misses = []
    cat_ok = sev_ok = crit_ok = crit_n = 0
    for row in rows:
        got = infer(row["text"], rules=rules)
        cat_ok += got.category == row["category"]
        sev_ok += got.severity == row["severity"]
        if row["severity"] == "critical" or got.severity == "critical":
            crit_n += 1
            crit_ok += (got.severity == "critical") == (row["severity"] == "critical")
        if got.category != row["category"] or got.severity != row["severity"]:
            misses.append(
                {
                    "text": row["text"],
                    "want": [row["category"], row["severity"]],
                    "got": [got.category, got.severity],
                    "why": got.reason,
                }
            )
    n = len(rows)
    return {
        "n": n,
        "category_accuracy": round(cat_ok / n, 3),
        "severity_accuracy": round(sev_ok / n, 3),
        "critical_agreement": f"{crit_ok}/{crit_n}",
        "misses": misses,
    }


def main(argv: list[str]) -> int:
    """`python -m escalation.infer FILE.jsonl...`: accuracy per labelled file, misses listed."""
    import json

    for name in argv:
        report = accuracy(Path(name))
        print(json.dumps({"file": name, **{k: v for k, v in report.items() if k != "misses"}}))
        for miss in report["misses"]:
            print(f"  want {miss['want']} got {miss['got']}: {miss['text'][:80]}  [{miss['why']}]")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
