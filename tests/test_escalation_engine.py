"""The engine on storage (SQLite and PostgreSQL) under a virtual clock: raise, working hours,
hand-on, snapshot, stale timers, ack and resolve, routing gaps, audit."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core import audit
from core.models import TimerRow
from escalation import service
from escalation.engine import HAND_ON, hand_on, timer_key
from escalation.models import EscalationRow, EventRow
from tests.test_escalation_support import World

FAST = {
    "chains": {
        "default": [{"role": "cra", "ack_within": "PT4H"}, {"role": "study_manager"}],
        "safety": [
            {"role": "medical_monitor", "ack_within": "PT1H"},
            {"role": "study_manager", "ack_within": "PT2H"},
            {"role": "clinops_head"},
        ],
    },
    "tier_overrides": {"strategic": {"timeout_factor": 0.5, "also_notify_at_level_1": ["srm"]}},
    "severity_overrides": {"critical": {"notify_through_level": 2}},
    "working_hours": {"start": "08:00", "end": "18:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]},
}


def esc_line(eid: str, site: str, summary: str, **extra: Any) -> dict[str, Any]:
    staff = {"S01": "staff1", "S02": "staff2", "S03": "staff3", "S04": "staff4"}[site]
    return {"id": eid, "site": site, "study": "ALPHA", "raised_by": staff, "summary": summary, **extra}


def test_saturday_raise_waits_for_monday_in_each_recipients_zone(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-07T14:51:00Z")  # Saturday
    w.line(
        "escalation",
        **esc_line("e1", "S02", "Only 2 kits left, resupply never arrived", category="ip_supply", severity="high"),
    )
    site = w.sent(kind="escalation_update", to="S02")
    assert len(site) == 1 and site[0].payload["escalation"]["status"] == "raised"
    text = site[0].payload["text"]
    assert "Level 1, CRA: Claire CRA (cra1): told Mon 9 Mar 02:00 your time" in text  # Chicago is on CDT by then
    assert "4 h to acknowledge" in text and "study manager: Stefan SM (sm1)" in text
    assert w.notices("e1") == []
    w.at("2026-03-09T06:59:00Z")
    assert w.notices("e1") == []
    w.at("2026-03-09T07:00:00Z")  # 08:00 Paris
    assert w.notices("e1") == [(1, "cra1")]
    notice = w.sent(kind="escalation", esc="e1")[0].payload
    assert notice["ack_within"] == "PT4H" and notice["hands_on_to"] == "study_manager"
    assert notice["chain_position"] == {"level": 1, "of": 3} and notice["site_name"] == "Lakeside Clinic"
    w.at("2026-03-09T11:00:00Z")  # the deadline itself: an ack arriving now would still be in time
    assert w.notices("e1") == [(1, "cra1")]
    w.at("2026-03-09T11:00:01Z")  # 4 h after the CRA's first notice; Zurich is in hours
    assert w.notices("e1") == [(1, "cra1"), (2, "sm1")]
    hand_on_update = w.sent(kind="escalation_update", to="S02")[-1].payload
    assert hand_on_update["escalation"] == {
        "id": "e1",
        "level": 2,
        "category": "ip_supply",
        "severity": "high",
        "inferred": False,
        "status": "handed_on",
    }
    assert "the CRA did not acknowledge in time" in hand_on_update["text"]


def test_critical_strategic_notifies_two_levels_and_srm_at_once_then_hands_on(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-07T02:53:00Z")  # Saturday night in Paris
    w.line("escalation", **esc_line("e2", "S01", "A participant died at home yesterday, what do we report?"))
    assert w.notices("e2") == [(1, "mm1"), (1, "srm1"), (2, "sm1")]
    ref = w.sent(kind="escalation", esc="e2")[0].payload["escalation"]
    assert ref == {"id": "e2", "level": 1, "category": "safety", "severity": "critical", "inferred": True}
    with w.session() as s:
        esc = s.get(EscalationRow, "e2")
        assert esc is not None and "died" in esc.inference_reason
    w.at("2026-03-07T03:52:00Z")
    assert len(w.notices("e2")) == 3
    w.at("2026-03-07T03:53:01Z")  # study manager's 2 h × 0.5, day or night
    assert w.notices("e2")[-1] == (3, "head1")
    assert [a for a in w.audit_actions("e2")] == [
        "escalation.raise",
        "escalation.notify",
        "escalation.notify",
        "escalation.hand_on",
        "escalation.notify",
    ]


def test_snapshot_keeps_the_chain_it_started_with(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-09T08:00:00Z")  # Monday, everyone in hours in Europe
    w.line(
        "escalation",
        **esc_line("old", "S03", "EDC password reset link broken", category="technology_access", severity="medium"),
    )
    w.line("policy", routing=FAST)  # new version: default chain cra → study_manager after 4 h
    w.line("escalation", **esc_line("new", "S03", "EDC still broken", category="technology_access", severity="medium"))
    w.at("2026-03-09T12:00:01Z")
    assert w.notices("new") == [(1, "cra1"), (2, "sm1")]
    assert w.notices("old") == [(1, "cra1")]  # the default policy's 24 h still applies to it
    w.at("2026-03-10T08:00:01Z")
    assert w.notices("old") == [(1, "cra1"), (2, "lead1")]
    with w.session() as s:
        old, new = s.get(EscalationRow, "old"), s.get(EscalationRow, "new")
        assert old is not None and new is not None
        assert old.policy_version is None and new.policy_version == 1
        assert [lv["role"] for lv in old.snapshot["levels"]] == ["cra", "cra_lead", "study_manager", "clinops_head"]


def test_ack_stops_hand_on_and_a_stale_timer_does_nothing(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-09T08:00:00Z")
    w.line("escalation", **esc_line("e3", "S03", "kits missing", category="ip_supply", severity="high"))
    with w.session() as s:
        timer = s.execute(select(TimerRow).where(TimerRow.key == timer_key("e3", 1))).scalar_one()
        stale_payload = dict(timer.payload)
    w.at("2026-03-09T09:00:00Z")
    w.line("ack", escalation="e3", by="cra1")
    with w.session() as s:
        assert s.execute(select(TimerRow.status).where(TimerRow.key == timer_key("e3", 1))).scalar() == "cancelled"
        # a worker that had already claimed the timer runs it anyway: it must see it is stale
        hand_on(s, TimerRow(key="x", kind=HAND_ON, due_at=w.now, payload=stale_payload), w.now)
    w.at("2026-03-12T00:00:00Z")
    assert w.notices("e3") == [(1, "cra1")]
    ack = w.sent(kind="escalation_update", to="S03")[-1].payload
    assert ack["escalation"]["status"] == "acknowledged" and "acknowledged by Claire CRA (cra1), CRA" in ack["text"]
    with w.session() as s:
        kinds = list(s.execute(select(EventRow.kind).where(EventRow.escalation_id == "e3")).scalars())
    assert kinds[-1] == "stale_timer" and "ack" in kinds


def test_ack_before_working_hours_drops_the_waiting_notices(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-06T19:00:00Z")  # Friday evening everywhere in Europe
    w.line(
        "escalation",
        **esc_line("e4", "S01", "60 new queries overnight on SDV'd data", category="data_queries", severity="medium"),
    )
    assert w.delivery_statuses("esc:e4:L1:") == {"esc:e4:L1:cra1": "pending", "esc:e4:L1:srm1": "pending"}
    w.at("2026-03-07T10:00:00Z")
    w.line("ack", escalation="e4", by="srm1")
    assert w.delivery_statuses("esc:e4:L1:") == {"esc:e4:L1:cra1": "cancelled", "esc:e4:L1:srm1": "cancelled"}
    w.at("2026-03-10T12:00:00Z")
    assert w.notices("e4") == []
    with w.session() as s:
        dropped = s.execute(select(EventRow).where(EventRow.escalation_id == "e4", EventRow.kind == "notice_dropped"))
        assert sorted(e.detail["person"] for e in dropped.scalars()) == ["cra1", "srm1"]


def test_resolve_tells_everyone_already_notified(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-09T09:00:00Z")
    w.line("escalation", **esc_line("e5", "S01", "Patient hospitalised with anaphylaxis after dosing"))
    w.at("2026-03-09T10:00:01Z")  # hand-on to the head of clinical operations at 10:00Z (critical: at once)
    assert w.notices("e5") == [(1, "mm1"), (1, "srm1"), (2, "sm1"), (3, "head1")]
    w.at("2026-03-09T10:30:00Z")
    w.line("resolve", escalation="e5", by="sm1")
    told = {m.recipient: m.payload for m in w.sent(kind="escalation_update", esc="e5") if m.channel == "person"}
    assert sorted(told) == ["head1", "mm1", "srm1"]  # everyone reached except the resolver
    assert all(
        p["escalation"]["status"] == "resolved" and "resolved by Stefan SM (sm1)" in p["text"] for p in told.values()
    )
    site = w.sent(kind="escalation_update", to="S01")[-1].payload
    assert site["escalation"]["status"] == "resolved" and site["event"] == "resolve"
    with w.session() as s:
        assert service.list_open(s, now=w.now) == []
        view = service.list_for_site(s, site="S01", now=w.now)[0]
        assert view["status"] == "resolved" and view["resolved_by"] == "sm1" and view["hands_on_at"] is None
        assert audit.verify(s).ok


def test_no_recipient_for_a_role_halts_and_makes_the_gap_loud(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-09T09:00:00Z")
    w.line(
        "escalation", **esc_line("e6", "S04", "coordinator resigned, no backup", category="staffing", severity="high")
    )
    assert w.notices("e6") == []  # no CRA covers S04
    alert = w.sent(kind="escalation_update", to="head1")
    assert len(alert) == 1 and "nobody is registered as CRA for study ALPHA at site S04" in alert[0].payload["text"]
    site = w.sent(kind="escalation_update", to="S04")
    assert [m.payload["event"] for m in site] == ["halted:L1", "raise"]
    assert "head of clinical operations has been alerted" in site[0].payload["text"]
    with w.session() as s:
        [view] = service.list_open(s, now=w.now)
        assert view["id"] == "e6" and view["halted"] and view["hands_on_at"] is None
    w.at("2026-03-12T00:00:00Z")
    assert w.notices("e6") == []


def test_surface_checks_refuse_out_of_scope_people(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-09T09:00:00Z")
    with w.session() as s:
        with pytest.raises(service.Forbidden, match="raised_by: staff2 is not on site S01"):
            service.raise_escalation(s, site="S01", study="ALPHA", raised_by="staff2", summary="x", now=w.now)
        with pytest.raises(service.EscalationError, match="study: site S01 is not on study 'BETA'"):
            service.raise_escalation(s, site="S01", study="BETA", raised_by="staff1", summary="x", now=w.now)
        esc = service.raise_escalation(s, site="S01", study="ALPHA", raised_by="staff1", summary="rash", now=w.now)
        with pytest.raises(service.Forbidden, match="by: staff1 may not acknowledge"):
            service.ack(s, escalation_id=esc.id, by="staff1", now=w.now)
        with pytest.raises(service.Conflict, match="already exists"):
            service.raise_escalation(
                s, site="S01", study="ALPHA", raised_by="staff1", summary="x", now=w.now, escalation_id=esc.id
            )
        service.resolve(s, escalation_id=esc.id, by="staff1", now=w.now)  # a site may close its own issue
        with pytest.raises(service.Conflict, match="already resolved"):
            service.ack(s, escalation_id=esc.id, by="cra1", now=w.now)


def test_describe_path_names_people_timeouts_and_hours(factory: sessionmaker[Session]) -> None:
    w = World(factory, "2026-03-07T12:00:00Z")
    with w.session() as s:
        path = service.describe_path(s, site="S01", study="ALPHA", category="safety", severity="high", now=w.now)
    assert path["tier"] == "strategic" and path["timeout_factor"] == 0.5
    first = path["levels"][0]
    assert first["roles"] == ["medical_monitor", "srm"] and first["ack_within"] == "PT30M"
    assert [p["person_id"] for p in first["people"]] == ["mm1", "srm1"]
    assert first["starts_at"] == "2026-03-09T07:00:00Z"  # Monday 08:00 Zurich
    assert path["levels"][2]["ack_within"] is None and "08:00-18:00" in path["text"]
    with w.session() as s:
        guessed = service.describe_path(
            s, site="S03", study="ALPHA", summary="fridge failed, 18 °C for 30 h", now=w.now
        )
    assert (guessed["category"], guessed["severity"]) == ("ip_supply", "high")
    assert "fridge" in guessed["inference_reason"]


def test_unanswered_question_becomes_a_protocol_clarification_once(factory: sessionmaker[Session]) -> None:
    """The assistant's Ask-my-CRA timer (assistant/unanswered.py) is the one timer; the engine files it."""
    w = World(factory, "2026-03-09T09:00:00Z")
    for _ in range(2):  # a replayed timer files nothing new
        with w.session() as s:
            service.open_question_to_escalation(
                s,
                question_id="42",
                site="S02",
                study="ALPHA",
                asked_by="staff2",
                summary="Can we re-screen?",
                now=w.now,
                settings=w.settings,
            )
    with w.session() as s:
        [esc] = s.execute(select(EscalationRow)).scalars().all()
        assert (esc.question_id, esc.category, esc.source) == ("42", "protocol_clarification", "open_question")
        assert esc.summary == "Unanswered question to the CRA: Can we re-screen?"
