"""Category/severity inference: accuracy on labelled sets, reasons, the safety guard on a refiner.

Measure: `.venv/bin/python -m escalation.infer tests/data/escalation_labels*.jsonl`
"""

from __future__ import annotations

from pathlib import Path

import pytest

from escalation.infer import Inference, accuracy, guard, infer, load_rules, parse_rules

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("name", "category_min", "critical_exact"),
    [
        ("escalation_labels.jsonl", 0.95, True),  # the development set (rules written against it)
        ("escalation_labels_holdout.jsonl", 0.9, True),  # written after the first rules, then used to extend them
        ("escalation_labels_blind.jsonl", 0.9, False),  # written after the second round, then used to extend them
        ("escalation_labels_fresh.jsonl", 0.9, False),  # third round, likewise
        ("escalation_labels_final.jsonl", 0.9, True),  # fourth round, likewise (see docs/escalation.md)
    ],
)
def test_category_accuracy_on_labelled_sets(name: str, category_min: float, critical_exact: bool) -> None:
    report = accuracy(DATA / name)
    assert report["n"] >= 30
    assert report["category_accuracy"] >= category_min, report["misses"]
    if critical_exact:
        ok, n = (int(x) for x in report["critical_agreement"].split("/"))
        assert ok == n, [m for m in report["misses"] if "critical" in m["want"] + m["got"]]


def test_labelled_set_covers_every_category_and_severity() -> None:
    import json

    rows = [json.loads(x) for x in (DATA / "escalation_labels.jsonl").read_text().splitlines() if x.strip()]
    assert len(rows) >= 80
    assert {r["category"] for r in rows} == {
        "safety",
        "ip_supply",
        "contract_budget",
        "ethics_regulatory",
        "data_queries",
        "technology_access",
        "staffing",
        "protocol_clarification",
        "other",
    }
    assert {r["severity"] for r in rows} == {"low", "medium", "high", "critical"}


@pytest.mark.parametrize(
    ("text", "category", "severity", "because"),
    [
        ("fridge failed, 18 °C for 30 h", "ip_supply", "high", "fridge"),
        ("participant died at home", "safety", "critical", "died"),
        ("pt 2003 pased away last nite, how fast do we report??", "safety", "critical", "pased"),
        ("the refridgerator temprature log shows 9 degrees since friday", "ip_supply", "high", "refridgerator"),
        ("Cannot log in to the EDC since the upgrade", "technology_access", "high", "log in"),
        ("small bruising at injection site, nothing serious", "safety", "medium", "bruising"),
    ],
)
def test_examples_with_reasons(text: str, category: str, severity: str, because: str) -> None:
    got = infer(text)
    assert (got.category, got.severity) == (category, severity), got
    assert because.lower() in got.reason.lower()


def test_no_rule_means_other_and_says_so() -> None:
    got = infer("hello")
    assert got.category == "other" and got.category_reason == "no rule matched"


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
    assert load_rules().priority[0] == "safety"
