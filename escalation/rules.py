"""The explicit rules of inference (`default_rules.yaml`): weighted patterns per category, severity cues,
and the safety locks.

Rules are the explainable, high-precision half of inference (`infer.py` combines them with the
nearest labelled examples of `classifier.py`). Two kinds of rule decide on their own, because a
missed safety signal costs more than a false alarm: a **safety lock** (death, life-threatening,
hospitalised, anaphylaxis, SUSAR, ...) files the issue as safety at (at least) its level whatever
else the text says, and an `any`-scope critical cue ("patient in the chair") makes any issue critical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import yaml
from rapidfuzz import fuzz

from escalation.policy import CATEGORIES, SEVERITIES

RULES_PATH = Path(__file__).with_name("default_rules.yaml")
_WORD = re.compile(r"[a-zà-ÿ]+")
_NEGATED = re.compile(r"\b(nothing|not|no|non)[- ](serious|severe|urgent|critical)\b", re.IGNORECASE)
_NEGATOR = re.compile(r"\b(no|not|never|without|denies|denied|negative for)\b", re.IGNORECASE)

CueKind = Literal["critical", "high", "low", "soft", "default"]


@dataclass(frozen=True)
class _Rule:
    weight: float
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Rules:
    priority: list[str]
    categories: dict[str, list[_Rule]]
    fuzzy: dict[str, list[str]]
    fuzzy_ignore: frozenset[str]  # real words that are never typos of a keyword ("contact" is not "contract")
    locks: list[tuple[str, re.Pattern[str]]]  # (severity floor, pattern): always safety
    lock_fuzzy: list[str]  # typo-tolerant critical safety terms ("pased away")
    critical_any: list[re.Pattern[str]]  # critical in any category
    high: list[re.Pattern[str]]
    low: list[re.Pattern[str]]
    soft: list[re.Pattern[str]]
    default_severity: dict[str, str]


@dataclass(frozen=True)
class RuleReading:
    """What the category rules found: every category's score and the words that scored."""

    scores: dict[str, float]
    evidence: dict[str, list[str]]

    def best(self, priority: list[str]) -> str | None:
        if not self.scores:
            return None
        order = {c: i for i, c in enumerate(priority)}
        return max(self.scores, key=lambda c: (self.scores[c], -order.get(c, len(order))))

    def mentions(self, category: str) -> str:
        return ", ".join(dict.fromkeys(self.evidence.get(category, [])))


@dataclass(frozen=True)
class Cue:
    """A severity cue: the level it points to, the words, and which list it came from."""

    level: str
    words: str
    kind: CueKind


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
    locks: list[tuple[str, re.Pattern[str]]] = []
    critical_any: list[re.Pattern[str]] = []
    for i, item in enumerate(sev.get("critical") or []):
        if not (isinstance(item, list) and len(item) == 2 and item[0] in ("safety", "any")):
            raise ValueError(f"{label}: severity.critical[{i}] must be [safety|any, regex]")
        pattern = _compile(item[1], f"{label}: severity.critical[{i}]")
        if item[0] == "safety":
            locks.append(("critical", pattern))
        else:
            critical_any.append(pattern)
    locks += [("high", _compile(rx, f"{label}: severity.safety_high")) for rx in sev.get("safety_high") or []]
    defaults = doc.get("default_severity") or {}
    for cat, value in defaults.items():
        if value not in SEVERITIES:
            raise ValueError(f"{label}: default_severity.{cat} {value!r} is not a severity")
    return Rules(
        priority=list(doc.get("priority") or CATEGORIES),
        categories=cats,
        fuzzy=fuzzy,
        fuzzy_ignore=frozenset(str(w).lower() for w in doc.get("fuzzy_ignore") or []),
        locks=locks,
        lock_fuzzy=[w.lower() for w in sev.get("critical_fuzzy") or []],
        critical_any=critical_any,
        high=[_compile(rx, f"{label}: severity.high") for rx in sev.get("high") or []],
        low=[_compile(rx, f"{label}: severity.low") for rx in sev.get("low") or []],
        soft=[_compile(rx, f"{label}: severity.soft") for rx in sev.get("soft") or []],
        default_severity=defaults,
    )


@lru_cache(maxsize=8)
def load_rules(path: Path = RULES_PATH) -> Rules:
    return parse_rules(yaml.safe_load(path.read_text(encoding="utf-8")), label=path.name)


def normalise(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def near(text: str, term: str, ignore: frozenset[str] = frozenset()) -> str | None:
    """A word (or pair of words, for a two-word term) of `text` within typo distance of `term`, not in `ignore`."""
    words = _WORD.findall(text.lower())
    if " " in term:
        words = [f"{a} {b}" for a, b in pairwise(words)]
    return next((w for w in words if len(w) >= 5 and w not in ignore and fuzz.ratio(w, term) >= 85), None)


def read_categories(text: str, rules: Rules) -> RuleReading:
    """Every category's score: the weights of its rules that match, plus 2 per typo-tolerant keyword."""
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
            typo = near(text, word, rules.fuzzy_ignore)
            if typo and typo not in matched_text:
                score += 2
                hits.append(f"{typo}≈{word}" if typo != word else typo)
        if score:
            scores[name], evidence[name] = score, hits
    return RuleReading(scores, evidence)


def _negated(text: str, start: int) -> bool:
    """A negation among the two words before `start` ("no suicidal ideation", "was not hospitalised")."""
    return bool(_NEGATOR.search(" ".join(text[:start].split()[-2:])))


def safety_lock(text: str, rules: Rules) -> Cue | None:
    """A cue that makes the issue safety at (at least) its level, whatever the rest of the text says."""
    text = _NEGATED.sub(" ", text)
    for level, pattern in rules.locks:
        m = next((m for m in pattern.finditer(text) if not _negated(text, m.start())), None)
        if m:
            return Cue(level, m.group(0).strip(), "critical" if level == "critical" else "high")
    for term in rules.lock_fuzzy:
        typo = near(text, term, rules.fuzzy_ignore)
        if typo and not _negated(text, text.lower().find(typo)):
            return Cue("critical", f"{typo}≈{term}" if typo != term else typo, "critical")
    return None


def severity_cue(text: str, category: str, rules: Rules) -> Cue:
    """The first severity cue in the text: critical (any category), high, low; else the category's usual level."""
    original, text = text, _NEGATED.sub(" ", text)  # "nothing serious" is not a cue for "serious"
    for pattern in rules.critical_any:
        m = pattern.search(text)
        if m:
            return Cue("critical", m.group(0).strip(), "critical")
    for pattern in rules.high:
        m = pattern.search(text)
        if m:
            return Cue("high", m.group(0).strip(), "high")
    floor = "medium" if category == "safety" else "low"
    for pattern in rules.low:
        m = pattern.search(text)
        if m:
            return Cue(floor, m.group(0).strip(), "low")
    default = rules.default_severity.get(category, "medium")
    if category == "safety" and default == "high":
        for pattern in rules.soft:
            m = pattern.search(original)
            if m:
                return Cue("medium", m.group(0).strip(), "soft")
    return Cue(default, f"usual for {category}", "default")
