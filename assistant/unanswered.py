"""Questions nobody answers: after `settings.open_question_escalate_after_h` an Ask-my-CRA question
still open becomes a `protocol_clarification` escalation, routed by the escalation engine.

The wait is a persisted timer armed by `handoff.open_question` and cancelled by `handoff.answer`;
the handler re-checks the question anyway, so a stale timer never escalates an answered one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from assistant.models import OpenQuestionRow
from core import audit
from core.db import hold_write_lock
from core.settings import Settings
from escalation.service import open_question_to_escalation


def escalate_if_unanswered(session: Session, *, question_id: int, now: datetime, settings: Settings) -> str | None:
    """The wait is over: a question nobody answered becomes a protocol_clarification escalation
    (once); an answered one is left alone. Returns the escalation id, if one was raised."""
    hold_write_lock(session)  # SQLite: the row lock below is PostgreSQL's only
    row = session.get(OpenQuestionRow, question_id, with_for_update=True)
    if row is None or row.status != "open":
        return None
    esc = open_question_to_escalation(
        session,
        question_id=str(row.id),
        site=row.site_id,
        study=row.study,
        asked_by=row.asked_by,
        summary=row.question[:500],
        now=now,
        settings=settings,
    )
    row.status, row.escalation_id = "escalated", esc.id
    audit.record(
        session,
        now=now,
        actor="siteline",
        action="open_question.escalated",
        subject=f"question:{row.id}",
        detail={
            "escalation": esc.id,
            "site": row.site_id,
            "study": row.study,
            "waited_h": _hours(now - row.created_at),
        },
    )
    return esc.id


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)
