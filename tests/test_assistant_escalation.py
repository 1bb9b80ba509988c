"""Unanswered Ask-my-CRA questions become protocol_clarification escalations after the configured wait,
through the same plugins and Ticker as `serve` and replay (virtual clock, no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.models import OpenQuestionRow
from assistant.service import Assistant, ChatUser
from assistant.types import InboundMessage
from core.clock import VirtualClock
from core.db import transaction
from core.models import AuditRow
from core.notify import RecordingNotifier
from core.settings import Settings
from escalation.models import EscalationRow
from scheduler.plugins import load_plugins, timer_handlers
from scheduler.runner import Ticker, run_virtual_until
from tests.chat_world import TABLE, FakeGuard, FakeKnowledge, load_directory

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def setup(factory: sessionmaker[Session]) -> tuple[Assistant, Ticker, VirtualClock, RecordingNotifier]:
    load_directory(factory)
    settings = Settings(_env_file=None, SITELINE_ASK_CRA_ESCALATE_AFTER_H=24)
    knowledge = FakeKnowledge(factory, TABLE)
    assistant = Assistant(settings=settings, factory=factory, knowledge=lambda: knowledge, guard=FakeGuard())
    notifier = RecordingNotifier()
    ticker = Ticker(factory, timer_handlers=timer_handlers(load_plugins(settings)), notifier=notifier, worker_id="t")
    return assistant, ticker, VirtualClock(START), notifier


def hand_off(assistant: Assistant, thread: str) -> int:
    msg = InboundMessage("slack", "U_ANNA", "C_S01", False, "SAE window?", thread_ref=thread, event_id=thread)
    reply = assistant.handle(msg, START)
    outcome = assistant.ask_cra(reply.answer_id, ChatUser("slack", "U_ANNA"), START)
    assert outcome.ok and outcome.ref is not None
    return outcome.ref


def test_an_unanswered_question_escalates_after_the_wait_and_an_answered_one_does_not(setup, factory) -> None:
    assistant, ticker, clock, notifier = setup
    waiting = hand_off(assistant, "1.1")
    answered = hand_off(assistant, "1.2")
    assistant.answer_open_question(answered, ChatUser("slack", "U_CARLA"), "24 hours.", START + timedelta(hours=1))

    run_virtual_until(ticker, clock, START + timedelta(hours=23, minutes=59))
    with transaction(factory) as s:
        assert s.execute(select(EscalationRow)).scalars().all() == []

    run_virtual_until(ticker, clock, START + timedelta(hours=25))
    with transaction(factory) as s:
        [esc] = s.execute(select(EscalationRow)).scalars()
        assert (esc.category, esc.site, esc.study, esc.source) == (
            "protocol_clarification",
            "S01",
            "ORION",
            "open_question",
        )
        assert esc.question_id == str(waiting) and "SAE window?" in esc.summary
        q = s.get(OpenQuestionRow, waiting)
        assert q.status == "escalated" and q.escalation_id == esc.id
        assert s.get(OpenQuestionRow, answered).status == "answered"
        [audited] = s.execute(select(AuditRow).where(AuditRow.action == "open_question.escalated")).scalars()
        assert audited.detail["escalation"] == esc.id and audited.detail["waited_h"] == 24.0
    kinds = [m.kind for m in notifier.sent]
    assert kinds.count("open_question") == 2 and "cra_answer" in kinds and "escalation" in kinds
    # The CRA can still answer an escalated question; it then leaves the open list.
    assert assistant.answer_open_question(waiting, ChatUser("slack", "U_CARLA"), "Done.", clock.now()).ok
    assert assistant.list_open_questions(ChatUser("slack", "U_CARLA")) == []
