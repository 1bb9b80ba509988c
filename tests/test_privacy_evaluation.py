"""Recall and precision of the PHI guard on tests/data/phi_cases.jsonl, and the scorer that measures them.

The thresholds are the issue's: recall >= 0.95 for names, MRNs, dates of birth, phones, emails and
SSNs, with precision reported (and held above a floor so over-redaction cannot creep in unnoticed).
Figures: `python -m privacy.evaluate tests/data/phi_cases.jsonl` (docs/privacy.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy import Finding, default_guard
from privacy.evaluate import Score, load_cases, main, score

CASES = Path(__file__).parent / "data" / "phi_cases.jsonl"
REQUIRED_RECALL = {"NAME": 0.95, "MRN": 0.95, "DOB": 0.95, "PHONE": 0.95, "EMAIL": 0.95, "SSN": 0.95}
PRECISION_FLOOR = 0.95
VOCABULARY_FLOOR = 0.98


@pytest.fixture(scope="module")
def result() -> Score:
    guard = default_guard()
    return score(load_cases(CASES), lambda text: guard.redact(text).findings)


def test_the_set_is_big_enough_and_mostly_realistic_negatives() -> None:
    cases = load_cases(CASES)
    assert len(cases) >= 80
    negatives = [c for c in cases if not c.phi]
    assert len(negatives) >= 40 and sum(len(c.keep) for c in negatives) >= 100
    assert len({c.id for c in cases}) == len(cases)
    assert {c.split for c in cases} == {"tuning", "holdout"}


@pytest.mark.parametrize("kind", sorted(REQUIRED_RECALL))
def test_recall_meets_the_threshold(result: Score, kind: str) -> None:
    assert result.gold[kind] >= 10, f"too few {kind} examples to measure recall"
    assert result.recall(kind) >= REQUIRED_RECALL[kind], [e for e in result.errors if f"MISSED {kind}" in e]


def test_precision_and_trial_vocabulary(result: Score) -> None:
    assert result.precision() >= PRECISION_FLOOR, [e for e in result.errors if "FALSE" in e]
    assert result.keep_intact / result.keep_total >= VOCABULARY_FLOOR, [e for e in result.errors if "DAMAGED" in e]


def test_a_half_redacted_identifier_counts_as_missed(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "pt John Smith", "phi": [{"kind": "NAME", "text": "John Smith"}]}))
    cases = load_cases(path)
    half = score(cases, lambda text: [Finding("NAME", 3, 7)])
    assert half.recall("NAME") == 0.0 and half.precision("NAME") == 1.0
    whole = score(cases, lambda text: [Finding("NAME", 3, 13), Finding("DATE", 0, 2)])
    assert whole.recall("NAME") == 1.0 and whole.precision() == 0.5


def test_a_span_missing_from_its_message_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "pt John Smith", "phi": [{"kind": "NAME", "text": "Jon"}]}))
    with pytest.raises(ValueError, match=r"bad.jsonl:1: phi text 'Jon' does not occur"):
        load_cases(path)


def test_the_command_prints_a_table_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(CASES), "--split", "holdout"]) == 0
    out = capsys.readouterr().out
    assert "(split holdout)" in out and "recall" in out and "precision" in out
    assert "\nNAME " in out and "trial vocabulary kept intact:" in out
