"""Generate the escalation replay scenarios under tests/scenarios/escalation_*/ (scenario + truth).

    .venv/bin/python tests/scenarios/escalation_generate.py      # rewrites the committed files

Deterministic (seeded). Sites on four continents and every tier; raises at night, on weekends and
across both DST changes of March 2026; acks that come quickly, late (after hand-ons), exactly at a
deadline, or before anyone's working hours; resolves; escalations without category/severity (their
text is taken from the labelled sets, where the truth is known); a site/study with no CRA (the
ladder halts). Updates are left out: check.py then scores the escalations only.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.clock import iso
from core.domain import Person
from escalation.infer import infer
from escalation.ladder import build_snapshot, project
from escalation.policy import parse_policy

HERE = Path(__file__).parent
DATA = HERE.parent / "data"

CONTRACT_POLICY: dict[str, Any] = {
    "chains": {
        "default": [
            {"role": "cra", "ack_within": "PT24H"},
            {"role": "cra_lead", "ack_within": "PT24H"},
            {"role": "study_manager", "ack_within": "PT48H"},
            {"role": "clinops_head"},
        ],
        "safety": [
            {"role": "medical_monitor", "ack_within": "PT1H"},
            {"role": "study_manager", "ack_within": "PT2H"},
            {"role": "clinops_head"},
        ],
        "contract_budget": [
            {"role": "srm", "ack_within": "PT48H"},
            {"role": "study_manager", "ack_within": "PT72H"},
            {"role": "clinops_head"},
        ],
        "ip_supply": [
            {"role": "cra", "ack_within": "PT4H"},
            {"role": "study_manager", "ack_within": "PT8H"},
            {"role": "clinops_head"},
        ],
    },
    "tier_overrides": {"strategic": {"timeout_factor": 0.5, "also_notify_at_level_1": ["srm"]}},
    "severity_overrides": {"critical": {"notify_through_level": 2}},
    "working_hours": {"start": "08:00", "end": "18:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]},
}
VARIANT_POLICY: dict[str, Any] = {
    "chains": {
        "default": [
            {"role": "cra", "ack_within": "PT8H"},
            {"role": "study_manager", "ack_within": "P1D"},
            {"role": "clinops_head"},
        ],
        "safety": [
            {"role": "medical_monitor", "ack_within": "PT30M"},
            {"role": "study_manager", "ack_within": "PT1H"},
            {"role": "clinops_head"},
        ],
        "technology_access": [
            {"role": "cra", "ack_within": "PT2H"},
            {"role": "cra_lead", "ack_within": "PT6H"},
            {"role": "study_manager"},
        ],
        "staffing": [{"role": "srm", "ack_within": "P2D"}, {"role": "clinops_head"}],
    },
    "tier_overrides": {
        "strategic": {"timeout_factor": 0.25, "also_notify_at_level_1": ["srm", "cra_lead"]},
        "preferred": {"timeout_factor": 0.75, "also_notify_at_level_1": ["srm"]},
    },
    "severity_overrides": {"critical": {"notify_through_level": 3}, "high": {"notify_through_level": 2}},
    "working_hours": {"start": "09:00", "end": "17:30", "days": ["Sun", "Mon", "Tue", "Wed", "Thu"]},
}

SITES = [
    ("S01", "Hôpital Nord", "Europe/Paris", "strategic", ["ALPHA", "BETA"]),
    ("S02", "Lakeside Clinic", "America/Chicago", "preferred", ["ALPHA"]),
    ("S03", "Marina Research", "Asia/Singapore", "standard", ["ALPHA", "BETA"]),
    ("S04", "Harbour Trials", "Australia/Sydney", "standard", ["BETA"]),
    ("S05", "Deccan Institute", "Asia/Kolkata", "strategic", ["ALPHA"]),
    ("S06", "Hudson Medical", "America/New_York", "standard", ["ALPHA", "BETA"]),
    ("S07", "Clínica Paulista", "America/Sao_Paulo", "preferred", ["BETA"]),
]
PEOPLE = [
    ("cra-eu", "cra", "Europe/Paris", ["S01", "S05"], ["ALPHA", "BETA"]),
    ("cra-us", "cra", "America/Chicago", ["S02", "S06"], ["ALPHA"]),  # nobody is CRA for S06 on BETA: a gap
    ("cra-ap", "cra", "Asia/Singapore", ["S03", "S04"], ["ALPHA", "BETA"]),
    ("cra-br", "cra", "America/Sao_Paulo", ["S07"], ["BETA"]),
    ("srm-eu", "srm", "Europe/London", ["S01", "S05", "S07"], ["ALPHA", "BETA"]),
    ("srm-ap", "srm", "Australia/Sydney", ["S02", "S03", "S04", "S06"], ["ALPHA", "BETA"]),
    ("lead-alpha", "cra_lead", "Europe/Berlin", [], ["ALPHA"]),
    ("lead-beta", "cra_lead", "America/New_York", [], ["BETA"]),
    ("sm-alpha", "study_manager", "Europe/Zurich", [], ["ALPHA"]),
    ("sm-beta", "study_manager", "America/Los_Angeles", [], ["BETA"]),
    ("mm-alpha", "medical_monitor", "Europe/Zurich", [], ["ALPHA"]),
    ("mm-beta", "medical_monitor", "Asia/Tokyo", [], ["BETA"]),
    ("head-us", "clinops_head", "America/New_York", [], []),
    ("head-eu", "clinops_head", "Europe/London", [], []),
]


def _labelled() -> list[dict[str, str]]:
    """Texts whose truth is known and that the rules read right (the scenarios test routing/timing;
    inference accuracy is measured on the labelled sets themselves)."""
    rows = []
    for name in ("escalation_labels.jsonl", "escalation_labels_holdout.jsonl", "escalation_labels_blind.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                got = infer(row["text"])
                if (got.category, got.severity) == (row["category"], row["severity"]):
                    rows.append(row)
    return rows


def _recipients(role: str, site: str, study: str) -> list[Person]:
    out = []
    for pid, r, tz, sites, studies in PEOPLE:
        if r != role:
            continue
        if role in ("site_staff", "cra", "srm"):
            ok = site in sites and study in studies
        elif role in ("cra_lead", "study_manager", "medical_monitor"):
            ok = study in studies
        else:
            ok = True
        if ok:
            out.append(Person(person_id=pid, role=role, tz=tz, sites=sites, studies=studies))  # type: ignore[arg-type]
    return sorted(out, key=lambda p: p.person_id)


def _outcome(rng: random.Random, plan: list[Any], raised: datetime) -> tuple[str, datetime] | None:
    """When (and how) the escalation is answered, chosen against its projected ladder."""
    started = [p for p in plan if p.start is not None]
    deadlines = [p.deadline for p in plan if p.deadline is not None]
    roll = rng.random()
    if roll < 0.18 or not started:
        return None
    first = started[0].start
    if roll < 0.38:  # quick ack after the first notice
        return "ack", first + timedelta(minutes=rng.randint(5, 50))
    if roll < 0.50 and first > raised + timedelta(hours=1):  # before anyone's working hours
        return rng.choice(["ack", "resolve"]), raised + (first - raised) * rng.uniform(0.1, 0.9)
    if roll < 0.60 and deadlines:  # exactly at a deadline: still in time
        return "ack", rng.choice(deadlines)
    if deadlines:  # late: after one or more hand-ons
        return rng.choice(["ack", "resolve"]), rng.choice(deadlines) + timedelta(minutes=rng.randint(1, 600))
    return "resolve", first + timedelta(hours=rng.randint(1, 72))


def build(
    name: str, policy: dict[str, Any], *, start: datetime, days: int, count: int, seed: int, weekend_bias: float
) -> None:
    rng = random.Random(seed)
    texts = _labelled()
    parsed = parse_policy(policy)
    head = [{"at": iso(start), "type": "policy", "routing": policy}]
    for sid, sname, tz, tier, studies in SITES:
        head.append(
            {
                "at": iso(start),
                "type": "site",
                "site_id": sid,
                "name": sname,
                "tz": tz,
                "tier": tier,
                "studies": studies,
                "digest_times": ["09:00"],
                "quiet_hours": ["19:00", "07:00"],
            }
        )
        head.append(
            {
                "at": iso(start),
                "type": "person",
                "person_id": f"staff-{sid}",
                "role": "site_staff",
                "tz": tz,
                "sites": [sid],
                "studies": studies,
            }
        )
    for pid, role, tz, sites, studies in PEOPLE:
        head.append(
            {
                "at": iso(start),
                "type": "person",
                "person_id": pid,
                "role": role,
                "tz": tz,
                "sites": sites,
                "studies": studies,
            }
        )
    events: list[dict[str, Any]] = []
    truth: dict[str, Any] = {}
    end = start + timedelta(days=days)
    for n in range(count):
        sid, _, tz, tier, studies = rng.choice(SITES)
        study = rng.choice(studies)
        raised = start + timedelta(minutes=rng.randint(60, (days - 4) * 24 * 60))
        if rng.random() < weekend_bias:  # move it to the nearest Saturday/Sunday, any hour
            raised += timedelta(days=(5 - raised.weekday()) % 7 + rng.choice([0, 1]))
            if raised > end - timedelta(days=2):
                raised -= timedelta(days=7)
        row = rng.choice(texts)
        eid = f"{name[:3]}{n + 1:02d}"
        labelled = rng.random() < 0.5
        line: dict[str, Any] = {
            "at": iso(raised),
            "type": "escalation",
            "id": eid,
            "site": sid,
            "study": study,
            "raised_by": f"staff-{sid}",
            "summary": row["text"],
        }
        if labelled:
            line |= {"category": row["category"], "severity": row["severity"]}
        events.append(line)
        truth[eid] = {"category": row["category"], "severity": row["severity"], "labelled": labelled}
        snap = build_snapshot(parsed, version=None, category=row["category"], severity=row["severity"], tier=tier)
        plan = project(
            snap,
            lambda lv, s=snap, si=sid, st=study: [(p, r) for r in s.roles(lv) for p in _recipients(r, si, st)],
            raised,
        )
        answer = _outcome(rng, plan, raised)
        if answer and answer[1] < end - timedelta(hours=1):
            by = rng.choice([n.person.person_id for p in plan for n in p.notices] or ["head-us"])
            events.append({"at": iso(answer[1]), "type": answer[0], "escalation": eid, "by": by})
            if answer[0] == "ack" and rng.random() < 0.5:
                later = answer[1] + timedelta(hours=rng.randint(2, 96))
                if later < end - timedelta(hours=1):
                    events.append({"at": iso(later), "type": "resolve", "escalation": eid, "by": by})
    events.sort(key=lambda e: (e["at"], 0 if e["type"] == "escalation" else 1))
    folder = HERE / f"escalation_{name}"
    folder.mkdir(exist_ok=True)
    lines = [*head, *events, {"at": iso(end), "type": "end"}]
    (folder / "scenario.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    (folder / "truth.json").write_text(json.dumps({"updates": {}, "escalations": truth, "seed": seed}, indent=1) + "\n")


def main() -> None:
    build(
        "mixed_month",
        CONTRACT_POLICY,
        start=datetime(2026, 4, 6, tzinfo=UTC),
        days=35,
        count=60,
        seed=11,
        weekend_bias=0.25,
    )
    build(
        "dst_weekends",
        CONTRACT_POLICY,
        start=datetime(2026, 3, 2, tzinfo=UTC),
        days=35,
        count=50,
        seed=23,
        weekend_bias=0.6,
    )
    build(
        "policy_variant",
        VARIANT_POLICY,
        start=datetime(2026, 10, 19, tzinfo=UTC),
        days=28,
        count=50,
        seed=37,
        weekend_bias=0.35,
    )


if __name__ == "__main__":
    main()
