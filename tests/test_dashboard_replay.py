"""The dashboard's figures on the contract's replayed scenario equal those computed independently
from the scenario and the replay's output file (deliveries per site and study, interruptions,
digests, update-site pairs, suppressions, escalations raised, acknowledged and resolved)."""

from __future__ import annotations

import io
import json
import statistics
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.clock import parse_instant
from core.db import transaction
from core.settings import Settings
from dashboard.figures import overview
from dashboard.scope import Viewer
from siteline.replay import replay
from triage.plugin import build_engine

SCENARIO = Path(__file__).resolve().parents[1].parent / "shared" / "contracts" / "examples" / "scenario.jsonl"


def expected(scenario: list[dict[str, Any]], out: list[dict[str, Any]]) -> dict[tuple[str, str], Counter[str]]:
    """(study, site) -> figures, from the files alone."""
    sites = {x["site_id"]: x["studies"] for x in scenario if x["type"] == "site"}
    study_of = {x["id"]: x["study"] for x in scenario if x["type"] == "update"}
    fig: dict[tuple[str, str], Counter[str]] = {(st, s): Counter() for s, sts in sites.items() for st in sts}
    for x in scenario:
        if x["type"] == "update":
            addressed = [s for s in sites if x["study"] in sites[s]] if x["sites"] == "all" else x["sites"]
            for s in addressed:
                fig[(x["study"], s)]["raw_updates"] += 1
    for d in out:
        if d["channel"] != "site" or d["kind"] not in ("immediate", "digest", "suppressed"):
            continue
        for study in {study_of[i["id"]] for i in d["items"]}:
            key = (study, d["to"])
            if d["kind"] == "suppressed":
                fig[key]["suppressed"] += len([i for i in d["items"] if study_of[i["id"]] == study])
                continue
            fig[key]["delivered_messages"] += 1
            fig[key]["interruptions" if d["kind"] == "immediate" else "digests"] += 1
    return fig


def escalations(scenario: list[dict[str, Any]]) -> dict[str, Any]:
    raised = {x["id"]: x for x in scenario if x["type"] == "escalation"}
    first = {}
    for kind in ("ack", "resolve"):
        for x in scenario:
            if x["type"] == kind and x["escalation"] not in first.get(kind, {}):
                first.setdefault(kind, {})[x["escalation"]] = parse_instant(x["at"])
    hours = {
        kind: sorted(
            round((at - parse_instant(raised[e]["at"])).total_seconds() / 3600, 2)
            for e, at in first.get(kind, {}).items()
        )
        for kind in ("ack", "resolve")
    }
    return {"raised": Counter(x["study"] for x in raised.values()), "hours": hours}


@pytest.mark.skipif(not SCENARIO.exists(), reason=f"{SCENARIO} is absent (the shared contracts folder)")
def test_dashboard_figures_equal_the_replay_output() -> None:
    scenario = [json.loads(line) for line in SCENARIO.read_text().splitlines() if line.strip()]
    buffer = io.StringIO()
    seen: dict[str, Any] = {}

    def look(factory: sessionmaker[Session], end: datetime) -> None:
        with transaction(factory) as s:
            seen["data"] = overview(s, Viewer.automation(), now=end, days=60, classifier=CLASSIFIER)

    replay(SCENARIO, buffer, Settings(_env_file=None), inspect=look)
    out = [json.loads(line) for line in buffer.getvalue().splitlines()]
    want = expected(scenario, out)
    got = {
        (st["study"], r["site_id"]): Counter(
            {k: r[k] for k in ("raw_updates", "delivered_messages", "interruptions", "digests", "suppressed") if r[k]}
        )
        for st in seen["data"]["studies"]
        for r in st["sites"]
    }
    assert got == want
    esc = escalations(scenario)
    for st in seen["data"]["studies"]:
        e = st["escalations"]
        assert e["raised"] == esc["raised"][st["study"]]
    alpha = next(st for st in seen["data"]["studies"] if st["study"] == "ALPHA-101")["escalations"]
    assert alpha["time_to_ack"]["n"] == len(esc["hours"]["ack"]) == 2
    assert alpha["time_to_ack"]["median_h"] == round(statistics.median(esc["hours"]["ack"]), 2)
    assert alpha["time_to_ack"]["p90_h"] == max(esc["hours"]["ack"])
    assert alpha["time_to_resolve"]["n"] == len(esc["hours"]["resolve"])
    assert alpha["time_to_resolve"]["median_h"] == esc["hours"]["resolve"][len(esc["hours"]["resolve"]) // 2]


CLASSIFIER = build_engine(Settings(_env_file=None)).classifier
