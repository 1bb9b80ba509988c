"""The ladder as pure functions: working hours (weekends, DST) in the recipient's zone, chain
selection, tier factor, critical through-level, strategic extra roles, the projected path."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import iso, parse_instant
from core.domain import Person
from escalation.hours import in_working_hours, working_start
from escalation.ladder import build_snapshot, deadline_after, notices, project
from escalation.policy import DEFAULT_POLICY_PATH, WorkingHours, load_policy_file

WH = WorkingHours()
POLICY = load_policy_file(DEFAULT_POLICY_PATH)


@pytest.mark.parametrize(
    ("instant", "tz", "expected"),
    [
        # Friday 19:00 Paris → Monday 08:00 Paris (CET, UTC+1)
        ("2026-03-06T18:00:00Z", "Europe/Paris", "2026-03-09T07:00:00Z"),
        # inside the window: unchanged
        ("2026-03-04T10:17:00Z", "Europe/Paris", "2026-03-04T10:17:00Z"),
        # 06:00 local Tuesday → 08:00 the same day
        ("2026-03-03T05:00:00Z", "Europe/Paris", "2026-03-03T07:00:00Z"),
        # Saturday in Chicago, across the US DST change (Sun 8 Mar 2026): Mon 08:00 CDT = 13:00Z
        ("2026-03-07T20:51:00Z", "America/Chicago", "2026-03-09T13:00:00Z"),
        # the Monday before, still CST: 08:00 = 14:00Z
        ("2026-02-28T20:51:00Z", "America/Chicago", "2026-03-02T14:00:00Z"),
        # Saturday night Paris across the EU change (Sun 29 Mar 2026): Mon 08:00 CEST = 06:00Z
        ("2026-03-28T23:00:00Z", "Europe/Paris", "2026-03-30T06:00:00Z"),
        # Singapore: 08:00 SGT is 00:00Z; Sunday 23:30Z is already Monday 07:30 there
        ("2026-03-08T23:30:00Z", "Asia/Singapore", "2026-03-09T00:00:00Z"),
        # India's half-hour offset: 08:00 IST = 02:30Z
        ("2026-03-09T00:00:00Z", "Asia/Kolkata", "2026-03-09T02:30:00Z"),
        # after 18:00 Friday in New York → Monday 08:00 EDT
        ("2026-03-13T23:30:00Z", "America/New_York", "2026-03-16T12:00:00Z"),
    ],
)
def test_working_start_in_the_recipients_zone(instant: str, tz: str, expected: str) -> None:
    assert iso(working_start(parse_instant(instant), tz, WH)) == expected


def test_end_of_window_is_outside_and_weekend_days_are_configurable() -> None:
    assert not in_working_hours(parse_instant("2026-03-04T17:00:00Z"), "Europe/Paris", WH)  # 18:00 Paris
    assert in_working_hours(parse_instant("2026-03-04T16:59:00Z"), "Europe/Paris", WH)
    sun_thu = WorkingHours(start="09:00", end="17:00", days=["Sun", "Mon", "Tue", "Wed", "Thu"])
    # Friday in Jerusalem → Sunday 09:00 IST (UTC+2) = 07:00Z
    assert (
        iso(working_start(parse_instant("2026-03-06T08:00:00Z"), "Asia/Jerusalem", sun_thu)) == "2026-03-08T07:00:00Z"
    )


def test_chain_selection_tier_factor_and_through_level() -> None:
    safety = build_snapshot(POLICY, version=None, category="safety", severity="critical", tier="strategic")
    assert [lv.role for lv in safety.levels] == ["medical_monitor", "study_manager", "clinops_head"]
    assert safety.timeout(1) == timedelta(minutes=30) and safety.timeout(2) == timedelta(hours=1)
    assert safety.timeout(3) is None  # the last level never hands on
    assert safety.notify_through_level == 2 and safety.critical
    assert safety.roles(1) == ["medical_monitor", "srm"] and safety.roles(2) == ["study_manager"]
    staffing = build_snapshot(POLICY, version=3, category="staffing", severity="high", tier="standard")
    assert [lv.role for lv in staffing.levels] == ["cra", "cra_lead", "study_manager", "clinops_head"]
    assert staffing.timeout(1) == timedelta(hours=24) and staffing.roles(1) == ["cra"]
    assert staffing.notify_through_level == 1 and not staffing.critical and staffing.policy_version == 3


def _p(pid: str, tz: str, role: str) -> tuple[Person, str]:
    return Person(person_id=pid, role=role, tz=tz), role  # type: ignore[arg-type]


def test_project_critical_all_at_once_then_hand_on() -> None:
    snap = build_snapshot(POLICY, version=None, category="safety", severity="critical", tier="strategic")
    people = {
        1: [_p("mm", "Europe/Zurich", "medical_monitor"), _p("srm", "Europe/Paris", "srm")],
        2: [_p("sm", "Europe/Zurich", "study_manager")],
        3: [_p("head", "America/New_York", "clinops_head")],
    }
    raised = parse_instant("2026-03-07T02:53:00Z")  # Saturday night: critical ignores working hours
    plan = project(snap, lambda lv: people.get(lv, []), raised)
    assert [(p.level, iso(p.start) if p.start else None) for p in plan] == [
        (1, "2026-03-07T02:53:00Z"),
        (2, "2026-03-07T02:53:00Z"),
        (3, "2026-03-07T03:53:00Z"),
    ]
    assert plan[1].deadline == raised + timedelta(hours=1) and plan[0].deadline is None


def test_project_waits_for_working_hours_and_stops_at_an_empty_level() -> None:
    snap = build_snapshot(POLICY, version=None, category="ip_supply", severity="high", tier="preferred")
    people = {1: [_p("cra", "Europe/Paris", "cra")], 2: []}
    plan = project(snap, lambda lv: people.get(lv, []), parse_instant("2026-03-07T14:51:00Z"))
    # Saturday raise → CRA Monday 08:00 Paris (07:00Z); 4 h later level 2 has nobody: the ladder stops
    assert iso(plan[0].start) == "2026-03-09T07:00:00Z" and iso(plan[0].deadline) == "2026-03-09T11:00:00Z"
    assert plan[1].start is None and len(plan) == 2


def test_notices_each_in_their_own_zone() -> None:
    snap = build_snapshot(POLICY, version=None, category="other", severity="medium", tier="standard")
    told = notices(
        snap,
        [_p("a", "Asia/Tokyo", "cra"), _p("b", "America/Los_Angeles", "cra")],
        parse_instant("2026-03-10T02:00:00Z"),
    )
    # 11:00 in Tokyo (in hours) / 19:00 the day before in Los Angeles (→ 08:00 PDT = 15:00Z)
    assert [iso(n.due) for n in told] == ["2026-03-10T02:00:00Z", "2026-03-10T15:00:00Z"]


def test_timeouts_run_on_the_wall_clock_of_the_zone_the_level_started_in() -> None:
    friday = parse_instant("2026-03-27T07:00:00Z")  # Fri 08:00 CET; Europe moves to CEST on Sunday
    assert iso(deadline_after(friday, "Europe/Paris", timedelta(hours=72))) == "2026-03-30T06:00:00Z"  # Mon 08:00
    assert iso(deadline_after(friday, "UTC", timedelta(hours=72))) == "2026-03-30T07:00:00Z"
    snap = build_snapshot(POLICY, version=None, category="contract_budget", severity="medium", tier="standard")
    people = {
        1: [_p("srm", "Europe/Paris", "srm")],
        2: [_p("sm", "Europe/Zurich", "study_manager")],
        3: [_p("head", "Europe/Berlin", "clinops_head")],
    }
    plan = project(snap, lambda lv: people.get(lv, []), parse_instant("2026-03-24T22:00:00Z"))
    # srm waits for Wed 08:00 Paris; 48 h later the study manager (Fri 08:00); 72 h on the Paris clock
    assert [(p.zone, iso(p.start)) for p in plan if p.start] == [
        ("Europe/Paris", "2026-03-25T07:00:00Z"),
        ("Europe/Paris", "2026-03-27T07:00:00Z"),
        ("Europe/Paris", "2026-03-30T06:00:00Z"),
    ]
