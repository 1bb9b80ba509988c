"""A small seeded world for the dashboard: three ALPHA sites (one also on BETA), CRAs, a study
manager, a head of clinical operations, triaged updates, questions with feedback, an open
Ask-my-CRA question and escalations. Time is virtual."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from assistant.models import ChatAnswerRow, OpenQuestionRow
from core.clock import parse_instant
from core.db import transaction
from core.directory import upsert
from core.domain import Person
from escalation.models import EscalationRow, EventRow
from knowledge.models import AnswerRow, FeedbackRow, QuestionRow
from tests.triage_world import SITES, World

PEOPLE = [
    Person(person_id="cra-1", role="cra", sites=["S01", "S02"], studies=["ALPHA"]),
    Person(person_id="cra-2", role="cra", sites=["S03"], studies=["ALPHA"]),
    Person(person_id="sm-alpha", role="study_manager", studies=["ALPHA"]),
    Person(person_id="head", role="clinops_head"),
    Person(person_id="crc-s01", role="site_staff", sites=["S01"], studies=["ALPHA", "BETA"]),
]
END = parse_instant("2026-03-06T00:00:00Z")


def add_question(
    session: Session,
    *,
    at: datetime,
    site: str,
    study: str,
    text: str,
    abstained: bool = False,
    feedback: str | None = None,
    citations: list[dict[str, Any]] | None = None,
) -> int:
    q = QuestionRow(at=at, asker=f"crc-{site.lower()}", surface="slack", studies=[study], text=text)
    session.add(q)
    session.flush()
    a = AnswerRow(
        question_id=q.id,
        at=at,
        text="" if abstained else "answer",
        abstained=abstained,
        mode="extractive",
        citations=citations or [],
        latency_ms=5,
    )
    session.add(a)
    session.flush()
    session.add(
        ChatAnswerRow(
            answer_id=a.id,
            created_at=at,
            platform="slack",
            conversation_id=f"C-{site}",
            site_id=site,
            asker=f"crc-{site.lower()}",
            studies=[study],
        )
    )
    if feedback:
        session.add(FeedbackRow(answer_id=a.id, at=at, by=f"crc-{site.lower()}", value=feedback))
    return a.id


def add_escalation(
    session: Session,
    esc_id: str,
    *,
    site: str,
    study: str,
    raised: datetime,
    level: int = 1,
    acked_h: float | None = None,
    resolved_h: float | None = None,
    hand_ons: int = 0,
) -> None:
    status = "resolved" if resolved_h is not None else "acknowledged" if acked_h is not None else "notified"
    session.add(
        EscalationRow(
            id=esc_id,
            site=site,
            study=study,
            raised_by="crc",
            summary="Freezer alarm",
            category="ip_temperature",
            severity="high",
            source="test",
            snapshot={},
            status=status,
            level=level,
            raised_at=raised,
            acked_at=raised + timedelta(hours=acked_h) if acked_h is not None else None,
            resolved_at=raised + timedelta(hours=resolved_h) if resolved_h is not None else None,
        )
    )
    session.flush()
    session.add(EventRow(escalation_id=esc_id, at=raised, kind="raise", level=1, actor="crc"))
    if acked_h is not None:
        session.add(
            EventRow(escalation_id=esc_id, at=raised + timedelta(hours=acked_h), kind="ack", level=level, actor="cra-1")
        )
    if resolved_h is not None:
        session.add(
            EventRow(
                escalation_id=esc_id,
                at=raised + timedelta(hours=resolved_h),
                kind="resolve",
                level=level,
                actor="cra-1",
            )
        )
    for n in range(hand_ons):
        session.add(
            EventRow(
                escalation_id=esc_id, at=raised + timedelta(hours=n + 1), kind="hand_on", level=n + 2, actor="siteline"
            )
        )


def seed(factory: sessionmaker[Session]) -> World:
    world = World(factory)
    with transaction(factory) as s:
        upsert(s, SITES, PEOPLE)
    world.send(
        "2026-03-02T10:00:00Z",
        subject="Recall of lot L4242",
        body="Quarantine lot L4242 now.",
        declared_priority="urgent",
    )
    world.send("2026-03-02T11:00:00Z", subject="March newsletter", body="Enrolment news for March.")
    world.send("2026-03-02T12:00:00Z", subject="FW: March newsletter", body="Enrolment news for March.")
    world.send(
        "2026-03-03T12:00:00Z", subject="Updated lab manual v3", body="Lab manual version 3 is out.", due="2026-03-20"
    )
    world.send(
        "2026-03-03T13:00:00Z", study="BETA", sites=["S01"], subject="BETA site visit plan", body="Visit plan attached."
    )
    world.advance(END)
    day = parse_instant("2026-03-04T09:00:00Z")
    cite = [{"doc": "Protocol", "version": "2.0", "section": "6.2 Dosing", "page": 12}]
    with transaction(factory) as s:
        add_question(
            s,
            at=day,
            site="S01",
            study="ALPHA",
            text="How long to observe after dosing?",
            citations=cite,
            feedback="helpful",
        )
        add_question(s, at=day, site="S01", study="ALPHA", text="Is parking validated?", abstained=True)
        add_question(
            s,
            at=day,
            site="S02",
            study="ALPHA",
            text="Observation time after the dose?",
            citations=cite,
            feedback="not_helpful",
        )
        add_question(s, at=day, site="S01", study="BETA", text="BETA visit window?", abstained=True)
        answer_id = add_question(
            s, at=day, site="S03", study="ALPHA", text="Can we ship samples on Friday?", abstained=True
        )
        s.add(
            OpenQuestionRow(
                answer_id=answer_id,
                created_at=day,
                site_id="S03",
                study="ALPHA",
                asked_by="crc-s03",
                handed_off_by="crc-s03",
                question="Can we ship samples on Friday?",
                bot_answer="",
                recipients=["cra-2"],
                platform="slack",
                conversation_id="C-S03",
            )
        )
        add_escalation(s, "E-1", site="S01", study="ALPHA", raised=day, acked_h=2, resolved_h=10)
        add_escalation(s, "E-2", site="S02", study="ALPHA", raised=day, acked_h=4, hand_ons=1)
        add_escalation(s, "E-3", site="S03", study="ALPHA", raised=day + timedelta(hours=12), level=2, hand_ons=1)
        add_escalation(s, "E-4", site="S01", study="BETA", raised=day, level=1)
    return world
