"""The platform-neutral assistant: scoping by the directory, PHI first, refusals, Ask-my-CRA, feedback, dedupe.

Runs on SQLite and PostgreSQL with a fake knowledge engine and PHI guard (the Slack end-to-end
tests use the real ones).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from assistant.handoff import OPEN_QUESTION_TIMER
from assistant.models import ChatAnswerRow, OpenQuestionRow
from assistant.service import Assistant, ChatUser
from assistant.types import InboundMessage
from core.db import transaction
from core.models import AuditRow, DeliveryRow, TimerRow
from core.settings import Settings
from knowledge.models import FeedbackRow, QuestionRow
from tests.chat_world import TABLE, FakeGuard, FakeKnowledge, load_directory

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def world(factory: sessionmaker[Session]) -> tuple[Assistant, FakeKnowledge]:
    load_directory(factory)
    knowledge = FakeKnowledge(factory, TABLE)
    settings = Settings(_env_file=None, SITELINE_ASK_CRA_ESCALATE_AFTER_H=24)
    return Assistant(settings=settings, factory=factory, knowledge=lambda: knowledge, guard=FakeGuard()), knowledge


def msg(user: str, text: str, *, channel: str = "D_DM", direct: bool = True, thread: str = "111.1") -> InboundMessage:
    return InboundMessage("slack", user, channel, direct, text, thread_ref=thread, event_id="Ev1")


def audit_rows(factory: sessionmaker[Session], action: str) -> list[AuditRow]:
    with transaction(factory) as s:
        return list(s.execute(select(AuditRow).where(AuditRow.action == action)).scalars())


def test_unknown_user_is_refused_politely_without_study_content(world, factory) -> None:
    assistant, knowledge = world
    reply = assistant.handle(msg("U_STRANGER", "what is the SAE window?"), NOW)
    assert reply.status == "refused" and "directory" in reply.text and not reply.citations
    assert knowledge.calls == []
    [row] = audit_rows(factory, "chat.refused")
    assert row.detail["reason"] == "unknown_user" and "SAE" not in str(row.detail)


def test_dm_is_scoped_to_the_askers_studies(world) -> None:
    assistant, knowledge = world
    reply = assistant.handle(msg("U_BEN", "what is the SAE reporting window?"), NOW)
    assert knowledge.calls[-1]["studies"] == ["VEGA"]
    assert reply.status == "not_found" and not any("ORION" in c.title for c in reply.citations)
    reply = assistant.handle(msg("U_ANNA", "what is the SAE reporting window?"), NOW)
    assert reply.status == "answered" and reply.citations[0].title == "ORION Protocol"
    assert reply.can_ask_cra and reply.answer_id is not None


def test_site_channel_intersects_the_askers_and_the_sites_studies(world) -> None:
    assistant, knowledge = world
    reply = assistant.handle(msg("U_MIA", "visit window?", channel="C_S01", direct=False), NOW)
    assert knowledge.calls[-1]["studies"] == ["ORION"] and reply.status == "not_found"
    refused = assistant.handle(msg("U_BEN", "visit window?", channel="C_S01", direct=False), NOW)
    assert refused.status == "refused" and "not listed on any study of this site" in refused.text
    assert len(knowledge.calls) == 1


def test_a_channel_that_is_no_sites_channel_gets_no_study_content(world) -> None:
    assistant, knowledge = world
    reply = assistant.handle(msg("U_ANNA", "SAE window?", channel="C_RANDOM", direct=False), NOW)
    assert reply.status == "refused" and "site's channel or in a direct message" in reply.text
    assert knowledge.calls == []


def test_identifiers_are_removed_before_the_engine_and_storage_see_them(world, factory) -> None:
    assistant, knowledge = world
    reply = assistant.handle(msg("U_ANNA", "pt MRN 4455667 had an SAE, when do I report?"), NOW)
    assert knowledge.calls[-1]["question"] == "pt [MRN] had an SAE, when do I report?"
    assert knowledge.calls[-1]["phi_redacted"] is True
    assert reply.notice and "removed 1 identifier" in reply.notice
    with transaction(factory) as s:
        assert s.get(ChatAnswerRow, reply.answer_id) is not None
        stored = s.execute(select(QuestionRow)).scalar_one()
        assert "4455667" not in stored.text and "[MRN]" in stored.text and stored.phi_redacted


def test_an_empty_mention_gets_a_hint_not_an_engine_call(world) -> None:
    assistant, knowledge = world
    reply = assistant.handle(msg("U_ANNA", "   "), NOW)
    assert reply.status == "empty" and "Ask me a question" in reply.text and knowledge.calls == []


def test_ask_my_cra_opens_one_tracked_question_for_the_sites_cras(world, factory) -> None:
    assistant, _ = world
    reply = assistant.handle(msg("U_ANNA", "SAE window?", channel="C_S01", direct=False, thread="170.5"), NOW)
    outcome = assistant.ask_cra(reply.answer_id, ChatUser("slack", "U_ANNA"), NOW)
    assert outcome.ok and "Carla CRA" in outcome.message
    assert outcome.deliveries == (f"open_question:{outcome.ref}:carla",)
    again = assistant.ask_cra(reply.answer_id, ChatUser("slack", "U_ANNA"), NOW + timedelta(minutes=1))
    assert again.ok and again.ref == outcome.ref and again.deliveries == ()
    with transaction(factory) as s:
        [delivery] = s.execute(select(DeliveryRow)).scalars()
        assert (delivery.channel, delivery.recipient, delivery.kind) == ("person", "carla", "open_question")
        p = delivery.payload
        assert p["question"] == "SAE window?" and p["site"] == "S01" and p["study"] == "ORION"
        assert p["citations"][0]["quote"].startswith("All SAEs must be reported")
        [timer] = s.execute(select(TimerRow)).scalars()
        assert timer.kind == OPEN_QUESTION_TIMER and timer.due_at == NOW + timedelta(hours=24)
        assert [f.value for f in s.execute(select(FeedbackRow)).scalars()] == ["ask_cra"]
    [created] = audit_rows(factory, "open_question.created")
    assert created.detail["recipients"] == ["carla"]


def test_someone_off_the_study_cannot_act_on_an_answer(world) -> None:
    assistant, _ = world
    reply = assistant.handle(msg("U_ANNA", "SAE window?"), NOW)
    assert not assistant.ask_cra(reply.answer_id, ChatUser("slack", "U_BEN"), NOW).ok
    assert not assistant.feedback(reply.answer_id, "helpful", ChatUser("slack", "U_BEN"), NOW).ok
    assert not assistant.ask_cra(reply.answer_id, ChatUser("slack", "U_NOBODY"), NOW).ok


def test_the_cras_answer_goes_back_into_the_original_thread(world, factory) -> None:
    assistant, _ = world
    reply = assistant.handle(msg("U_ANNA", "SAE window?", channel="C_S01", direct=False, thread="170.5"), NOW)
    qid = assistant.ask_cra(reply.answer_id, ChatUser("slack", "U_ANNA"), NOW).ref
    assert [q.id for q in assistant.list_open_questions(ChatUser("slack", "U_CARLA"))] == [qid]
    assert not assistant.answer_open_question(qid, ChatUser("slack", "U_VICTOR"), "24h", NOW).ok
    later = NOW + timedelta(hours=2)
    done = assistant.answer_open_question(qid, ChatUser("slack", "U_CARLA"), "Within 24 h; MRN 998877 aside.", later)
    assert done.ok and done.deliveries == (f"cra_answer:{qid}",) and "removed 1 identifier" in done.message
    again = assistant.answer_open_question(qid, ChatUser("slack", "U_CARLA"), "again", later)
    assert not again.ok and "already answered" in again.message
    with transaction(factory) as s:
        row = s.execute(select(DeliveryRow).where(DeliveryRow.kind == "cra_answer")).scalar_one()
        assert (row.channel, row.recipient) == ("site", "S01")
        assert row.payload["conversation"] == {"platform": "slack", "conversation_id": "C_S01", "thread_ref": "170.5"}
        assert row.payload["answer"] == "Within 24 h; [MRN] aside." and row.payload["cra_name"] == "Carla CRA"
        q = s.get(OpenQuestionRow, qid)
        assert q.status == "answered" and q.answered_by == "carla" and q.answered_at == later
        assert s.execute(select(TimerRow.status)).scalar_one() == "cancelled"
    assert assistant.list_open_questions(ChatUser("slack", "U_CARLA")) == []
    assert audit_rows(factory, "open_question.answered")[0].detail["phi_redacted"] is True


def test_a_dm_question_is_answered_back_in_the_dm(world, factory) -> None:
    assistant, _ = world
    reply = assistant.handle(msg("U_ANNA", "SAE window?", thread="171.0"), NOW)
    qid = assistant.ask_cra(reply.answer_id, ChatUser("slack", "U_ANNA"), NOW).ref
    assistant.answer_open_question(qid, ChatUser("slack", "U_CARLA"), "24 hours.", NOW)
    with transaction(factory) as s:
        row = s.execute(select(DeliveryRow).where(DeliveryRow.kind == "cra_answer")).scalar_one()
        assert (row.channel, row.recipient) == ("person", "anna")
        assert row.payload["conversation"]["conversation_id"] == "D_DM"


def test_no_cra_in_the_directory_is_said_plainly(world, factory) -> None:
    assistant, _ = world
    reply = assistant.handle(msg("U_SAM", "SAE window?"), NOW)  # a study manager: no site of their own
    assert reply.status == "answered" and not reply.can_ask_cra
    outcome = assistant.ask_cra(reply.answer_id, ChatUser("slack", "U_SAM"), NOW)
    assert not outcome.ok and "which site" in outcome.message


def test_feedback_is_recorded_once_per_person_and_value(world, factory) -> None:
    assistant, _ = world
    reply = assistant.handle(msg("U_ANNA", "SAE window?"), NOW)
    user = ChatUser("slack", "U_ANNA")
    assert assistant.feedback(reply.answer_id, "helpful", user, NOW).ok
    assert "already" in assistant.feedback(reply.answer_id, "helpful", user, NOW).message
    assert assistant.feedback(reply.answer_id, "not_helpful", user, NOW).ok
    with transaction(factory) as s:
        assert sorted(f.value for f in s.execute(select(FeedbackRow)).scalars()) == ["helpful", "not_helpful"]
    assert [r.detail["value"] for r in audit_rows(factory, "answer.feedback")] == ["helpful", "not_helpful"]


def test_a_platform_event_is_claimed_once_even_after_a_restart(world, factory) -> None:
    assistant, _ = world
    assert assistant.claim_event("slack", "Ev42", NOW)
    assert not assistant.claim_event("slack", "Ev42", NOW + timedelta(seconds=5))
    fresh = Assistant(settings=assistant.settings, factory=factory, knowledge=lambda: None, guard=FakeGuard())
    assert not fresh.claim_event("slack", "Ev42", NOW + timedelta(minutes=1))
    assert fresh.claim_event("teams", "Ev42", NOW)  # another platform's id space
    # A claim whose worker died mid-answer is taken over by a late retry; a finished one never is.
    assert fresh.claim_event("slack", "Ev42", NOW + timedelta(minutes=5))
    fresh.finish_event("slack", "Ev42")
    assert not fresh.claim_event("slack", "Ev42", NOW + timedelta(minutes=30))
