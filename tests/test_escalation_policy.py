"""Routing policy: parsing errors name the field; the default file; replay refuses bad lines by number."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from escalation.policy import DEFAULT_POLICY_PATH, PolicyError, load_policy_file, parse_duration, parse_policy
from siteline.replay import ScenarioError, replay

GOOD: dict[str, Any] = {
    "chains": {
        "default": [{"role": "cra", "ack_within": "PT24H"}, {"role": "clinops_head"}],
        "safety": [{"role": "medical_monitor", "ack_within": "PT1H"}, {"role": "study_manager"}],
    },
    "tier_overrides": {"strategic": {"timeout_factor": 0.5, "also_notify_at_level_1": ["srm"]}},
    "severity_overrides": {"critical": {"notify_through_level": 2}},
    "working_hours": {"start": "08:00", "end": "18:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]},
}


def with_(path: str, value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(GOOD))
    *keys, last = path.split(".")
    node: Any = doc
    for k in keys:
        node = node[int(k)] if k.isdigit() else node[k]
    if value is KeyError:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def test_default_policy_file_is_the_contract_shape() -> None:
    policy = load_policy_file(DEFAULT_POLICY_PATH)
    assert [lv.role for lv in policy.chain("safety")] == ["medical_monitor", "study_manager", "clinops_head"]
    assert [lv.role for lv in policy.chain("staffing")] == ["cra", "cra_lead", "study_manager", "clinops_head"]
    assert policy.tier("strategic").timeout_factor == 0.5
    assert policy.tier("standard").timeout_factor == 1.0
    assert policy.through_level("critical", 3) == 2 and policy.through_level("high", 3) == 1


@pytest.mark.parametrize(
    ("doc", "named"),
    [
        (with_("chains.default", KeyError), "routing.chains: Value error, a 'default' chain is required"),
        (with_("chains.default.0.ack_within", "24h"), "routing.chains.default.0.ack_within"),
        (with_("chains.default.0.role", "boss"), "routing.chains.default.0.role"),
        (with_("chains.default.0.ack_within", KeyError), "chain 'default' level 1 (cra) needs ack_within"),
        (with_("chains.fridge", [{"role": "cra"}]), "chain 'fridge' is not a category"),
        (with_("chains.default.0.ack_whithin", "PT1H"), "routing.chains.default.0.ack_whithin"),
        (with_("working_hours.end", "07:00"), "routing.working_hours: Value error, start 08:00 must be before end"),
        (with_("working_hours.days", ["Mon", "Fry"]), "routing.working_hours.days"),
        (with_("tier_overrides.gold", {"timeout_factor": 2}), "routing.tier_overrides.gold"),
        (with_("tier_overrides.strategic.timeout_factor", 0), "routing.tier_overrides.strategic.timeout_factor"),
        (with_("severity_overrides.critical.notify_through_level", 0), "notify_through_level"),
    ],
)
def test_policy_errors_name_the_field(doc: dict[str, Any], named: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc)
    assert named in str(info.value)


def test_durations() -> None:
    assert parse_duration("PT24H").total_seconds() == 86400
    assert parse_duration("P1DT12H").total_seconds() == 36 * 3600
    assert parse_duration("PT30M").total_seconds() == 1800
    for bad in ("24h", "P", "PT", "PT0H", ""):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_policy_file_with_routing_wrapper_and_yaml_errors(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(json.dumps({"routing": GOOD}))
    assert load_policy_file(f).chain("safety")[0].role == "medical_monitor"
    f.write_text("chains: [oops")
    with pytest.raises(PolicyError, match=r"p\.yaml: not valid YAML"):
        load_policy_file(f)
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy_file(tmp_path / "missing.yaml")


def _scenario(tmp_path: Path, lines: list[dict[str, Any]]) -> Path:
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


BASE = [
    {"at": "2026-03-02T00:00:00Z", "type": "policy", "routing": GOOD},
    {
        "at": "2026-03-02T00:00:00Z",
        "type": "site",
        "site_id": "S1",
        "name": "S1",
        "tz": "Europe/Paris",
        "tier": "standard",
        "studies": ["A"],
        "digest_times": ["09:00"],
        "quiet_hours": ["19:00", "07:00"],
    },
    {
        "at": "2026-03-02T00:00:00Z",
        "type": "person",
        "person_id": "c1",
        "role": "cra",
        "tz": "Europe/Paris",
        "sites": ["S1"],
        "studies": ["A"],
    },
]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"type": "policy", "routing": with_("chains.default.0.ack_within", "1 day")},
            "line 4 (policy): routing.chains.default.0.ack_within",
        ),
        (
            {"type": "escalation", "id": "e1", "site": "S1", "study": "A", "raised_by": "c1"},
            "line 4 (escalation): summary: Field required",
        ),
        (
            {
                "type": "escalation",
                "id": "e1",
                "site": "S1",
                "study": "A",
                "raised_by": "c1",
                "summary": "x",
                "severity": "huge",
            },
            "line 4 (escalation): severity",
        ),
        (
            {"type": "escalation", "id": "e1", "site": "S9", "study": "A", "raised_by": "c1", "summary": "x"},
            "line 4 (escalation): site: unknown site 'S9'",
        ),
        ({"type": "ack", "escalation": "nope", "by": "c1"}, "line 4 (ack): escalation: no escalation 'nope'"),
        ({"type": "resolve", "escalation": "e1"}, "line 4 (resolve): by: Field required"),
    ],
)
def test_replay_refuses_bad_escalation_lines_by_number(tmp_path: Path, extra: dict[str, Any], message: str) -> None:
    path = _scenario(tmp_path, [*BASE, {"at": "2026-03-02T01:00:00Z", **extra}])
    out = StringIO()
    with pytest.raises(ScenarioError) as info:
        replay(path, out)
    assert message in str(info.value)


def test_replay_refuses_a_duplicate_escalation_id(tmp_path: Path) -> None:
    esc = {"type": "escalation", "id": "e1", "site": "S1", "study": "A", "raised_by": "c1", "summary": "kits"}
    path = _scenario(tmp_path, [*BASE, {"at": "2026-03-02T01:00:00Z", **esc}, {"at": "2026-03-02T02:00:00Z", **esc}])
    with pytest.raises(ScenarioError, match="line 5 \\(escalation\\): id: escalation 'e1' already exists"):
        replay(path, StringIO())
