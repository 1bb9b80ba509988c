"""End to end through the assistant with the real PHI guard: what reaches the engine, storage and the user.

Runs on SQLite and PostgreSQL (the `factory` fixture); the knowledge engine is the recording fake of
tests/chat_world.py, so the test sees exactly the question text the engine (and an LLM) would get.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.service import Assistant
from assistant.types import InboundMessage
from core.db import transaction
from core.models import AuditRow
from core.settings import Settings
from knowledge.models import QuestionRow
from privacy import default_guard
from tests.chat_world import TABLE, FakeKnowledge, load_directory

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
RAW = "pt John Smith MRN 88412937 DOB 3/14/61 had an SAE on Week 12, when do I report?"


def test_identifiers_never_reach_the_engine_the_database_or_the_audit_trail(factory: sessionmaker[Session]) -> None:
    load_directory(factory)
    knowledge = FakeKnowledge(factory, TABLE)
    assistant = Assistant(
        settings=Settings(_env_file=None), factory=factory, knowledge=lambda: knowledge, guard=default_guard()
    )
    reply = assistant.handle(InboundMessage("slack", "U_ANNA", "D_DM", True, RAW, thread_ref="1.1", event_id="E1"), NOW)

    assert knowledge.calls[-1]["question"] == "pt [NAME] MRN [MRN] DOB [DOB] had an SAE on Week 12, when do I report?"
    assert knowledge.calls[-1]["phi_redacted"] is True
    assert reply.status == "answered" and "24 hours" in reply.text
    assert reply.notice is not None and "names, medical record numbers and dates of birth" in reply.notice
    with transaction(factory) as s:
        stored = [q.text for q in s.execute(select(QuestionRow)).scalars()]
        trail = " ".join(f"{a.subject} {a.detail}" for a in s.execute(select(AuditRow)).scalars())
    assert stored == [knowledge.calls[-1]["question"]]
    for identifier in ("John", "Smith", "88412937", "3/14/61"):
        assert identifier not in " ".join(stored) and identifier not in trail
