"""Unanswered "Ask my CRA" questions become `protocol_clarification` escalations.

The chat layer owns questions and their one timer (`assistant/unanswered.py`); escalation/ must not
import it, so the timer's handler calls `open_question_to_escalation` when the wait is over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings
from escalation.engine import raise_escalation
from escalation.models import EscalationRow

OPEN_QUESTION = "escalation.open_question"


def open_question_to_escalation(
    session: Session,
    *,
    question_id: str,
    site: str,
    study: str,
    asked_by: str,
    summary: str,
    now: datetime,
    settings: Settings | None = None,
) -> EscalationRow:
    """Raise (once per question) a protocol_clarification escalation for an unanswered question."""
    existing = session.execute(select(EscalationRow).where(EscalationRow.question_id == question_id)).scalar()
    if existing is not None:
        return existing
    return raise_escalation(
        session,
        site=site,
        study=study,
        raised_by=asked_by,
        now=now,
        source="open_question",
        summary=f"Unanswered question to the CRA: {summary}",
        category="protocol_clarification",
        severity=None,
        question_id=question_id,
        settings=settings,
        strict=False,
    )
