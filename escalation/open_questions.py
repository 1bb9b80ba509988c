"""Unanswered "Ask my CRA" questions become `protocol_clarification` escalations.

The chat layer owns questions; escalation/ must not import it. Two ways to plug in:
- the chat layer keeps its own timer and calls `open_question_to_escalation` when it fires; or
- it calls `schedule_open_question` when a question is handed to the CRA (timer kind
  `escalation.open_question`, fired after `settings.open_question_escalate_after_h`) and registers
  an `OpenQuestionPort` at start-up. When the timer fires the handler asks the port whether the
  question is still open: answered → nothing happens; still open → a `protocol_clarification`
  escalation, and the port is told its id. With no port registered (a process without the chat
  layer) the question is escalated: a silent drop is the worse error.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import TimerRow
from core.settings import Settings
from escalation.engine import raise_escalation
from escalation.models import EscalationRow
from scheduler import timers

OPEN_QUESTION = "escalation.open_question"


class OpenQuestionPort(Protocol):
    """What the chat layer tells the escalation engine about its questions (ids as strings)."""

    def still_open(self, session: Session, question_id: str) -> bool:
        """True while nobody has answered the question (and it was not withdrawn)."""
        ...

    def escalated(self, session: Session, question_id: str, escalation_id: str) -> None:
        """Told in the same transaction once the question became an escalation (to link the two)."""
        ...


_ports: list[OpenQuestionPort] = []


def register_port(port: OpenQuestionPort) -> None:
    """Called once by the chat layer at start-up (replaces any earlier port)."""
    _ports[:] = [port]


def clear_port() -> None:
    _ports.clear()


def question_key(question_id: str) -> str:
    return f"escalation:open_question:{question_id}"


def schedule_open_question(
    session: Session,
    *,
    question_id: str,
    site: str,
    study: str,
    asked_by: str,
    summary: str,
    asked_at: datetime,
    settings: Settings,
) -> datetime:
    """Arm the check for `open_question_escalate_after_h` after the question; returns when it fires."""
    due = asked_at + timedelta(hours=settings.open_question_escalate_after_h)
    timers.schedule(
        session,
        key=question_key(question_id),
        kind=OPEN_QUESTION,
        due_at=due,
        payload={"question_id": question_id, "site": site, "study": study, "asked_by": asked_by, "summary": summary},
    )
    return due


def cancel_open_question(session: Session, *, question_id: str) -> None:
    """The question was answered: the check is no longer needed (the port would say so anyway)."""
    timers.cancel(session, key=question_key(question_id))


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


def on_open_question_timer(session: Session, timer: TimerRow, now: datetime, *, settings: Settings) -> None:
    """Escalate the question unless the chat layer says it has been answered meanwhile."""
    payload: dict[str, Any] = timer.payload or {}
    question_id = str(payload["question_id"])
    port = _ports[0] if _ports else None
    if port is not None and not port.still_open(session, question_id):
        return
    esc = open_question_to_escalation(
        session,
        question_id=question_id,
        site=payload["site"],
        study=payload["study"],
        asked_by=payload["asked_by"],
        summary=payload["summary"],
        now=now,
        settings=settings,
    )
    if port is not None:
        port.escalated(session, question_id, esc.id)
