"""Category/severity inference: examples with reasons, the safety locks, critical only from cues, the refiner guard.

Accuracy on the labelled sets (cross-validated) is in test_escalation_infer_cv.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

import escalation.classifier as classifier
from escalation.classifier import Exemplar, Neighbour, Reading, load_exemplars
from escalation.infer import Inference, decide, guard, infer
from escalation.rules import load_rules, normalise, parse_rules
from knowledge.exemplar_vectors import load_vectors


@pytest.mark.parametrize(
    ("text", "category", "severity", "because"),
    [
        ("fridge failed, 18 °C for 30 h", "ip_supply", "high", "fridge"),
        ("participant died at home", "safety", "critical", "died"),
        ("pt 2003 pased away last nite, how fast do we report??", "safety", "critical", "pased"),
        ("the refridgerator temprature log shows 9 degrees since friday", "ip_supply", "high", "refridgerator"),
        ("small bruising at injection site, nothing serious", "safety", "medium", "bruising"),
        # wording no rule names: the nearest labelled examples decide, and the reason quotes one
        ("hello, the medicine for the trial came warm, the ice packs were all melted", "ip_supply", None, "like"),
        ("life threatening arrhythmia during ECG monitoring, pt transferred to CCU", "safety", "critical", "life"),
        ("SUSAR notice from the sponsor mentions a case from our site", "safety", "high", "susar"),
    ],
)
def test_examples_with_reasons(text: str, category: str, severity: str | None, because: str) -> None:
    got = infer(text)
    assert got.category == category, got
    assert severity is None or got.severity == severity, got
    assert because.lower() in got.reason.lower()


def test_no_rule_and_no_similar_example_means_other_and_says_so() -> None:
    got = infer("hello")
    assert got.category == "other" and got.category_reason == "no rule matched"


def all_say(category: str, severity: str) -> Reading:
    """What the nearest examples would say if every one of them had these labels."""
    level = {"low": 0.0, "medium": 1.0, "high": 2.0, "critical": 2.0}[severity]
    near = [Neighbour(Exemplar(f"example {i}", category, severity), 0.6) for i in range(7)]
    return Reading(votes={category: 1.0}, level=level, neighbours=near)


@pytest.mark.parametrize(
    ("text", "severity"),
    [
        ("participant died at home", "critical"),
        ("Subject had anaphylaxis 10 min after the injection", "critical"),
        ("pt hospitalised overnight, discharged this morning", "critical"),
        ("life-threatening bleed reported by the GP", "critical"),
        ("subject says he doesn't want to live anymore", "critical"),
        ("we received a SUSAR report for our site", "high"),
    ],
)
def test_safety_locks_are_never_lowered_by_examples_or_a_refiner(text: str, severity: str) -> None:
    rules = load_rules()
    got = decide(normalise(text), rules, all_say("contract_budget", "low"))
    assert (got.category, got.severity) == ("safety", severity), got
    assert "always safety" in got.category_reason
    lowered = guard(got, ("other", "low", "the model disagrees"))
    assert (lowered.category, lowered.severity) == ("safety", severity)


def test_critical_only_from_an_explicit_cue_never_from_examples_alone() -> None:
    rules = load_rules()
    text = "participant feels unwell after the visit, please advise"
    got = decide(normalise(text), rules, all_say("safety", "critical"))
    assert got.category == "safety" and got.severity == "high"
    cue = "IWRS is down and the patient is waiting in the chair to be randomised"
    assert decide(normalise(cue), rules, all_say("other", "low")).severity == "critical"


def test_negated_and_look_alike_words_do_not_lock() -> None:
    rules = load_rules()
    for text in (
        "Subject reports low mood, PHQ-9 score 11, no suicidal ideation",
        "Our investigator changed hospitals; who takes over her patients?",
        "the source for visit dates is in the hospital system only",
        "the kits expired last week, we need new ones",
        "the ePRO tablet battery is dead again",
    ):
        got = decide(normalise(text), rules, None)
        assert got.severity != "critical" and "always safety" not in got.category_reason, (text, got)


def test_rules_alone_when_the_example_model_cannot_load(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setattr(classifier, "_state", {})
    monkeypatch.setattr(classifier, "load_exemplars", lambda: (_ for _ in ()).throw(FileNotFoundError("gone")))
    with caplog.at_level(logging.WARNING, logger="escalation.classifier"):
        got = infer("fridge failed, 18 °C for 30 h")
    assert (got.category, got.severity) == ("ip_supply", "high") and "fridge" in got.reason
    assert "rules only" in caplog.text
    assert infer("participant died at home", examples=False).severity == "critical"


def test_a_stale_vector_file_is_recomputed_not_trusted(tmp_path: Path) -> None:
    class Counting:
        calls = 0

        def embed(self, texts: list[str]) -> np.ndarray:
            Counting.calls += 1
            return np.ones((len(texts), 4), dtype=np.float32) / 2

    examples = [Exemplar("a", "other", "low"), Exemplar("b", "safety", "high")]
    path = tmp_path / "x.npz"
    np.savez(path, vectors=np.zeros((2, 4)), fingerprint="not-this")
    vectors = load_vectors(examples, Counting(), path)
    assert Counting.calls == 1 and float(vectors[0, 0]) == 0.5


def test_example_file_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "ex.jsonl"
    bad.write_text('{"text": "ok", "category": "safety", "severity": "high"}\n{"text": "x", "category": "fridge"}\n')
    with pytest.raises(ValueError, match=r"ex\.jsonl:2: category 'fridge' is not a category"):
        load_exemplars(bad)
    bad.write_text('{"text": "", "category": "safety", "severity": "high"}\n')
    with pytest.raises(ValueError, match=r"ex\.jsonl:1: text is missing"):
        load_exemplars(bad)


class Opinion:
    def __init__(self, category: str, severity: str) -> None:
        self.opinion = (category, severity, "llm says so")

    def refine(self, summary: str, guess: Inference) -> tuple[str, str, str]:
        return self.opinion


def test_a_refiner_may_not_hide_a_safety_signal() -> None:
    text = "participant died at home"
    assert infer(text, refiner=Opinion("other", "low")).category == "safety"
    assert infer(text, refiner=Opinion("safety", "medium")).severity == "critical"
    # it may raise severity, and it may re-file a non-safety issue
    assert infer("fridge failed, 18 °C for 30 h", refiner=Opinion("ip_supply", "critical")).severity == "critical"
    refined = infer("EDC password reset link broken", refiner=Opinion("data_queries", "low"))
    assert (refined.category, refined.severity) == ("data_queries", "low") and "refined" in refined.reason
    # a malformed opinion is ignored
    base = infer("EDC password reset link broken")
    assert guard(base, ("nonsense", "low", "?")) == base


def test_rules_file_errors_name_the_entry() -> None:
    with pytest.raises(ValueError, match=r"categories\.fridge is not a category"):
        parse_rules({"categories": {"fridge": {"rules": []}}})
    with pytest.raises(ValueError, match=r"categories\.safety\.rules\[0\]: bad regex"):
        parse_rules({"categories": {"safety": {"rules": [[1, "("]]}}})
    with pytest.raises(ValueError, match=r"default_severity\.safety 'huge'"):
        parse_rules({"default_severity": {"safety": "huge"}})
    with pytest.raises(ValueError, match=r"severity\.critical\[0\] must be \[safety\|any, regex\]"):
        parse_rules({"severity": {"critical": [["sometimes", "x"]]}})
    assert load_rules().priority[0] == "safety"
