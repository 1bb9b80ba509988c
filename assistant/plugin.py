"""The assistant's seam into `serve` and `siteline replay`: the Ask-my-CRA wait timer.

When a question is handed to the CRA, `handoff.open_question` arms a timer of this kind for
`settings.open_question_escalate_after_h`; when it fires, a question still unanswered becomes a
`protocol_clarification` escalation (the escalation engine routes it). Answering cancels it, and
the handler re-checks the question anyway, so a stale timer never escalates an answered one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from assistant.handoff import OPEN_QUESTION_TIMER
from assistant.unanswered import escalate_if_unanswered
from core.models import TimerRow
from core.settings import Settings
from scheduler.plugins import EnginePlugin


def plugin(settings: Settings) -> EnginePlugin:
    def on_wait_over(session: Session, timer: TimerRow, now: datetime) -> None:
        escalate_if_unanswered(session, question_id=int(timer.payload["question_id"]), now=now, settings=settings)

    return EnginePlugin(name="assistant", timer_handlers={OPEN_QUESTION_TIMER: on_wait_over})
