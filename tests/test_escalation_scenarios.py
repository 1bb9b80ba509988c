"""`siteline replay` on the contract's example and on our own escalation scenarios, scored by the
contract's check.py (every expected notification on time, nothing unexpected, every site told).

Regenerate the scenarios with `.venv/bin/python tests/scenarios/escalation_generate.py`.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from siteline.replay import replay

SHARED = Path("/work/shared/contracts")
CHECK = SHARED / "check.py"
EXAMPLE = SHARED / "examples"
OURS = sorted((Path(__file__).parent / "scenarios").glob("escalation_*/scenario.jsonl"))

needs_check = pytest.mark.skipif(not CHECK.exists(), reason=f"{CHECK} is absent (the shared contracts folder)")


def score(scenario: Path, truth: Path, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "deliveries.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        replay(scenario, fh)
    done = subprocess.run(
        [sys.executable, str(CHECK), str(scenario), str(truth), str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def escalation_part(report: dict[str, Any]) -> tuple[int, int, int, int, int]:
    text = report["escalation_notifications"]  # "13/13 on time, 0 mistimed, 0 missing, 0 unexpected"
    on_time, rest = text.split(" on time, ")
    ok, total = (int(x) for x in on_time.split("/"))
    mistimed, missing, unexpected = (int(part.split()[0]) for part in rest.split(", "))
    return ok, total, mistimed, missing, unexpected


@needs_check
@pytest.mark.parametrize("scenario", OURS, ids=[p.parent.name for p in OURS])
def test_our_scenarios_pass_check(scenario: Path, tmp_path: Path) -> None:
    report = score(scenario, scenario.parent / "truth.json", tmp_path)
    ok, total, mistimed, missing, unexpected = escalation_part(report)
    assert (mistimed, missing, unexpected) == (0, 0, 0), report["problems"]
    assert ok == total > 0
    told, raised = (int(x) for x in report["escalations_site_told"].split("/"))
    assert told == raised > 0
    assert report["pass_"] is True


@needs_check
def test_contract_example_escalations(tmp_path: Path) -> None:
    """The whole example when the triage engine is installed; its escalation lines alone otherwise."""
    scenario, truth = EXAMPLE / "scenario.jsonl", EXAMPLE / "truth.json"
    if importlib.util.find_spec("triage.plugin") is None:
        lines = [x for x in scenario.read_text().splitlines() if x.strip() and '"type": "update"' not in x]
        scenario = tmp_path / "escalations_only.jsonl"
        scenario.write_text("\n".join(lines) + "\n")
        doc = json.loads(truth.read_text())
        truth = tmp_path / "truth.json"
        truth.write_text(json.dumps({**doc, "updates": {}}))
    report = score(scenario, truth, tmp_path)
    assert escalation_part(report) == (13, 13, 0, 0, 0), report["problems"]
    assert report["escalations_site_told"] == "4/4" and report["inferred_category_accuracy"] == "4/4"
