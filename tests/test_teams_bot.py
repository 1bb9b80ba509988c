"""Scenario tests through the real endpoint: Bot Framework Activity JSON posted over HTTP to
`POST /api/messages` of the running app (uvicorn on a free port), replies recorded by a fake
connector at the activities' `serviceUrl`, assertions on the Adaptive Cards and database rows.

Runs on SQLite and PostgreSQL with the fake knowledge engine and PHI guard of tests.chat_world
(tests/test_teams_serve.py drives a real `siteline serve` process).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from assistant.models import ChatAnswerRow, OpenQuestionRow
from assistant.service import Assistant
from bot.teams.models import TeamsConversationRow
from core.clock import Clock
from core.db import transaction
from core.models import AuditRow, DeliveryRow
from core.settings import Settings
from knowledge.models import FeedbackRow, QuestionRow
from siteline.container import Container, build
from siteline.server import create_app
from tests.chat_world import TABLE, FakeGuard, FakeKnowledge
from tests.fake_teams_connector import CARLA_AAD, Activities, FakeConnector, Post, load_teams_directory

S01 = "19:s01@thread.tacv2"


class ServerThread:
    """uvicorn serving the app on a free local port, in a thread (stopped by the fixture)."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Harness:
    http: httpx.Client
    fake: FakeConnector
    teams: Activities
    container: Container
    knowledge: FakeKnowledge

    def post(self, activity: dict[str, Any], **headers: str) -> httpx.Response:
        return self.http.post("/api/messages", json=activity, headers=headers)


def make_settings(tmp_path: Path, db_url: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=db_url,
        SITELINE_RUN_SCHEDULER=False,
        **extra,
    )


@pytest.fixture
def fake() -> Iterator[FakeConnector]:
    f = FakeConnector().start()
    yield f
    f.stop()


@contextmanager
def running(tmp_path: Path, db_url: str, fake: FakeConnector, clock: Clock | None = None) -> Iterator[Harness]:
    """The app in anonymous local mode with the Teams directory, fake knowledge and guard, over HTTP."""
    container = build(make_settings(tmp_path, db_url, SITELINE_TEAMS_ANONYMOUS=True), clock=clock)
    load_teams_directory(container.factory, fake.url)
    knowledge = FakeKnowledge(container.factory, TABLE)
    container.__dict__["assistant"] = Assistant(
        settings=container.settings,
        factory=container.factory,
        knowledge=lambda: knowledge,
        guard=FakeGuard,
        triage=lambda: container.triage,
    )
    try:
        with ServerThread(create_app(container)) as base, httpx.Client(base_url=base, timeout=20) as http:
            yield Harness(http, fake, Activities(fake.url), container, knowledge)
    finally:
        container.engine.dispose()


@pytest.fixture
def h(tmp_path: Path, db_url: str, fake: FakeConnector) -> Iterator[Harness]:
    with running(tmp_path, db_url, fake) as harness:
        yield harness


def settled(h: Harness, timeout: float = 10.0) -> set[str]:
    """Delivery statuses once no row is mid-send (the connector records a post before the row is marked)."""
    deadline = time.monotonic() + timeout
    while True:
        with transaction(h.container.factory) as s:
            statuses = {d.status for d in s.execute(select(DeliveryRow)).scalars()}
        if "sending" not in statuses or time.monotonic() > deadline:
            return statuses
        time.sleep(0.05)


def titles(post: Post) -> list[str]:
    return post.action_titles()


def test_a_channel_mention_gets_a_cited_card_in_its_thread(h: Harness) -> None:
    started = time.monotonic()
    question = h.teams.mention("anna", "S01", "what is the SAE reporting window?", activity_id="1001")
    resp = h.post(question)
    assert resp.status_code == 202 and time.monotonic() - started < 3
    [answer] = h.fake.wait_for()
    assert answer.path == f"/v3/conversations/{S01};messageid=1001/activities/1001"
    assert answer.body["replyToId"] == "1001" and answer.body["from"]["id"] == "28:siteline-bot"
    text = answer.all_text
    assert "Report SAEs to the sponsor within 24 hours of awareness." in text
    assert "[1] **ORION Protocol** · version 3.0 · § 8.3 Serious Adverse Events · p. 41" in text
    assert "“All SAEs must be reported to the sponsor within 24 hours of awareness.”" in text
    assert "orion_protocol.md" in text
    assert answer.card["version"] == "1.5" and answer.card["type"] == "AdaptiveCard"
    assert titles(answer) == ["Helpful", "Not helpful", "Ask my CRA"]
    assert {a["type"] for a in answer.actions()} == {"Action.Execute"}
    assert all(a["data"]["answer_id"] for a in answer.actions())
    typing = [p for p in h.fake.posts if p.type == "typing"]
    assert len(typing) == 1
    assert h.knowledge.calls == [
        {
            "question": "what is the SAE reporting window?",
            "studies": ["ORION"],
            "asker": "anna",
            "surface": "teams",
            "phi_redacted": False,
        }
    ]
    with transaction(h.container.factory) as s:
        ref = s.execute(select(ChatAnswerRow)).scalar_one()
        assert (ref.platform, ref.conversation_id, ref.thread_ref, ref.site_id) == ("teams", S01, "1001", "S01")
        conv = s.get(TeamsConversationRow, S01)
        assert conv is not None and conv.kind == "channel" and conv.service_url == h.fake.url


def test_a_reply_in_a_channel_thread_stays_in_that_thread(h: Harness) -> None:
    h.post(h.teams.mention("mia", "S03", "sae window please", activity_id="2002", thread="2000"))
    [answer] = h.fake.wait_for()
    assert answer.path == "/v3/conversations/19:s03@thread.tacv2;messageid=2000/activities/2002"
    assert "ORION Protocol" in answer.all_text


def test_a_personal_chat_question_gets_a_cited_card(h: Harness) -> None:
    h.post(h.teams.personal("ben", "What is the visit 3 window?", activity_id="3001"))
    [answer] = h.fake.wait_for()
    assert answer.path == "/v3/conversations/a:dm-ben/activities/3001"
    assert "**VEGA Protocol** · version 1.1 · § 6.2 Visit Windows · p. 12" in answer.all_text
    assert "Visit 3 may occur within plus or minus 3 days" in answer.all_text
    assert titles(answer) == ["Helpful", "Not helpful", "Ask my CRA"]
    with transaction(h.container.factory) as s:
        dm = s.get(TeamsConversationRow, "a:dm-ben")
        assert dm is not None and (dm.kind, dm.user_id, dm.bot_id) == ("personal", "29:ben", "28:siteline-bot")


def test_a_redelivered_activity_is_answered_once(h: Harness) -> None:
    question = h.teams.mention("anna", "S01", "SAE window?", activity_id="1002")
    assert h.post(question).status_code == 202
    assert h.post(question).status_code == 202  # while the first is still being answered, or after
    h.fake.wait_for()
    assert h.post(question).status_code == 202
    time.sleep(0.3)  # give a wrong second answer the chance to show up
    assert len(h.fake.messages()) == 1 and len(h.knowledge.calls) == 1


def test_an_unknown_user_gets_a_polite_refusal_and_no_study_content(h: Harness) -> None:
    h.post(h.teams.mention("stranger", "S01", "SAE window?", activity_id="1003"))
    [reply] = h.fake.wait_for()
    assert "directory" in reply.all_text and reply.reply_to == "1003"
    assert "ORION" not in json.dumps(reply.body) and titles(reply) == [] and h.knowledge.calls == []
    with transaction(h.container.factory) as s:
        [refused] = s.execute(select(AuditRow).where(AuditRow.action == "chat.refused")).scalars()
        assert refused.detail["reason"] == "unknown_user"


def test_a_vega_user_never_sees_an_orion_document(h: Harness) -> None:
    h.post(h.teams.personal("ben", "What is the SAE reporting window?"))
    [reply] = h.fake.wait_for()
    assert h.knowledge.calls[-1]["studies"] == ["VEGA"]
    assert "ORION" not in json.dumps(reply.body) and "couldn't find" in reply.all_text
    assert "Ask my CRA" in titles(reply)  # nothing found: the CRA is one click away
    h.post(h.teams.mention("ben", "S01", "What is the SAE reporting window?"))
    refusal = h.fake.wait_for(2)[-1]
    assert "not listed on any study of this site" in refusal.all_text and len(h.knowledge.calls) == 1
    h.post(h.teams.mention("anna", "19:random@thread.tacv2", "SAE window?"))
    elsewhere = h.fake.wait_for(3)[-1]
    assert "site's channel or in a direct message" in elsewhere.all_text and len(h.knowledge.calls) == 1


def test_identifiers_are_removed_and_the_user_is_told(h: Harness) -> None:
    h.post(h.teams.mention("anna", "S01", "pt MRN 5566778 had an SAE, when to report?"))
    [reply] = h.fake.wait_for()
    assert "removed 1 identifier" in reply.all_text and "5566778" not in json.dumps(reply.body)
    assert h.knowledge.calls[-1]["question"] == "pt [MRN] had an SAE, when to report?"
    with transaction(h.container.factory) as s:
        assert "5566778" not in s.execute(select(QuestionRow)).scalar_one().text


def test_buttons_feedback_ask_my_cra_and_the_cras_answer_back_in_the_thread(h: Harness) -> None:
    question = h.teams.mention("anna", "S01", "SAE window?", activity_id="1004")
    h.post(question)
    [answer] = h.fake.wait_for()
    answer_id = answer.actions()[0]["data"]["answer_id"]

    resp = h.post(h.teams.invoke("anna", "feedback_helpful", {"answer_id": answer_id}, on=question))
    assert resp.status_code == 200
    assert resp.json() == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Thanks for the feedback.",
    }
    again = h.post(h.teams.invoke("anna", "feedback_helpful", {"answer_id": answer_id}, on=question))
    assert "already recorded" in again.json()["value"]

    h.fake.reset()
    resp = h.post(h.teams.invoke("anna", "ask_cra", {"answer_id": answer_id}, on=question))
    assert resp.status_code == 200 and "Carla CRA" in resp.json()["value"]
    note = h.fake.wait_for(where=lambda p: p.conversation.startswith(S01))[0]
    assert note.conversation == f"{S01};messageid=1004" and "Carla CRA" in note.all_text
    # Carla never wrote to the bot: a 1:1 chat is created for her (by her Entra id), then the card posted.
    card_post = h.fake.wait_for(where=lambda p: p.conversation == f"a:dm-{CARLA_AAD}")[0]
    [created] = h.fake.created()
    assert created.body["members"] == [{"id": CARLA_AAD}] and created.body["bot"] == {"id": "28:siteline-bot"}
    assert created.body["tenantId"] == "tenant-0001"
    assert "SAE window?" in card_post.all_text and "All SAEs must be reported" in card_post.all_text
    assert "Question from Anna Site" in card_post.all_text
    assert titles(card_post) == ["Send answer"]
    [box] = [e for e in card_post.card["body"] if e["type"] == "Input.Text"]
    question_id = card_post.actions()[0]["data"]["question_id"]

    h.fake.reset()
    cra_card = {"id": "msg-cra", "conversation": {"id": f"a:dm-{CARLA_AAD}", "conversationType": "personal"}}
    reply = {"question_id": question_id, box["id"]: "Within 24 hours, by the EDC SAE form."}
    resp = h.post(h.teams.invoke("carla", "answer_question", reply, on=cra_card))
    body = resp.json()
    assert resp.status_code == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Answered by Carla CRA" in json.dumps(body["value"]) and "Input.Text" not in json.dumps(body["value"])
    back = h.fake.wait_for(where=lambda p: p.conversation.startswith(S01))[0]
    assert back.conversation == f"{S01};messageid=1004"
    assert "Within 24 hours, by the EDC SAE form." in back.all_text and "Carla CRA" in back.all_text

    assert settled(h) == {"sent"}
    with transaction(h.container.factory) as s:
        q = s.execute(select(OpenQuestionRow)).scalar_one()
        assert q.status == "answered" and q.answer_text == "Within 24 hours, by the EDC SAE form."
        assert q.answered_by == "carla" and q.platform == "teams"
        assert {f.value for f in s.execute(select(FeedbackRow)).scalars()} == {"helpful", "ask_cra"}
        actions = set(s.execute(select(AuditRow.action)).scalars())
    assert {"answer.feedback", "open_question.created", "open_question.answered"} <= actions

    twice = h.post(h.teams.invoke("carla", "answer_question", reply, on=cra_card)).json()
    assert twice["type"] == "application/vnd.microsoft.activity.message" and "already answered" in twice["value"]


def test_message_with_value_clicks_are_handled_like_invokes(h: Harness) -> None:
    question = h.teams.personal("anna", "SAE window?")
    h.post(question)
    [answer] = h.fake.wait_for()
    answer_id = answer.actions()[0]["data"]["answer_id"]
    assert h.post(
        h.teams.submit("anna", "feedback_not_helpful", {"answer_id": answer_id}, on=question)
    ).status_code in (
        200,
        202,
    )
    [thanks] = h.fake.wait_for(2)[1:]
    assert "Thanks for telling me" in thanks.all_text and thanks.conversation == "a:dm-anna"
    with transaction(h.container.factory) as s:
        assert [f.value for f in s.execute(select(FeedbackRow)).scalars()] == ["not_helpful"]


def test_someone_elses_answer_cannot_be_handed_off_by_a_user_of_another_study(h: Harness) -> None:
    question = h.teams.mention("anna", "S01", "SAE window?")
    h.post(question)
    answer_id = h.fake.wait_for()[0].actions()[0]["data"]["answer_id"]
    resp = h.post(h.teams.invoke("ben", "ask_cra", {"answer_id": answer_id}, on=question)).json()
    assert "study you're not on" in resp["value"]
    stale = h.post(h.teams.invoke("anna", "ask_cra", {"answer_id": "nope"}, on=question)).json()
    assert "no longer works" in stale["value"]


def test_help_questions_install_and_bots_are_handled(h: Harness) -> None:
    assert h.post(h.teams.installed("victor")).status_code in (200, 202)
    [welcome] = h.fake.wait_for()
    assert welcome.conversation == "a:dm-victor" and "answers questions about your study documents" in welcome.all_text
    h.post(h.teams.personal("carla", "questions"))
    listing = h.fake.wait_for(2)[-1]
    assert "No open questions" in listing.all_text
    own = h.teams.personal("anna", "echo")
    own["from"] = {"id": "28:siteline-bot", "name": "Siteline"}
    assert h.post(own).status_code == 202
    time.sleep(0.3)
    assert len(h.fake.messages()) == 2 and h.knowledge.calls == []


def test_a_failure_ends_in_an_apology_and_one_log_line_without_the_text(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.knowledge.fail = True
    with caplog.at_level(logging.INFO):
        h.post(h.teams.mention("anna", "S01", "secret-ish question about SAE", activity_id="1005"))
        [apology] = h.fake.wait_for()
    assert apology.reply_to == "1005" and "Sorry" in apology.all_text and "reference 1005@" in apology.all_text
    failures = [r for r in caplog.records if "failed" in r.getMessage() and "1005" in r.getMessage()]
    assert len(failures) == 1 and "RuntimeError" in failures[0].getMessage()
    assert "secret-ish" not in caplog.text


def test_a_rate_limited_reply_is_retried_after_retry_after(h: Harness) -> None:
    h.fake.fail_once(429, retry_after=1)
    h.post(h.teams.personal("anna", "SAE window?", activity_id="1006"))
    first, second = h.fake.wait_for(2, timeout=15)
    assert first.reply_to == second.reply_to == "1006" and "ORION Protocol" in second.all_text


def test_malformed_activities_and_bogus_tokens_are_refused(h: Harness) -> None:
    assert (
        h.http.post("/api/messages", content=b"not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert h.post({"type": "message", "text": "no conversation"}).status_code == 400
    bogus = h.post(h.teams.personal("anna", "SAE window?"), Authorization="Bearer not.a.jwt")
    assert bogus.status_code == 401  # anonymous mode still validates any token it is given
    time.sleep(0.2)
    assert h.fake.posts == [] and h.knowledge.calls == []


def test_with_app_credentials_a_missing_or_bogus_token_is_401(tmp_path: Path, db_url: str, fake: FakeConnector) -> None:
    settings = make_settings(
        tmp_path,
        db_url,
        TEAMS_APP_ID="00000000-0000-4000-8000-0000000000a1",
        TEAMS_APP_PASSWORD="not-a-real-secret",
        TEAMS_TENANT_ID="00000000-0000-4000-8000-0000000000t1",
        SITELINE_TEAMS_ANONYMOUS=True,  # ignored: credentials win
    )
    container = build(settings)
    activity = Activities(fake.url).personal("anna", "SAE window?")
    with ServerThread(create_app(container)) as base, httpx.Client(base_url=base, timeout=20) as http:
        assert http.post("/api/messages", json=activity).status_code == 401
        forged = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJhdWQiOiJ4In0."}
        assert http.post("/api/messages", json=activity, headers=forged).status_code == 401
        assert http.post("/api/messages", json=activity, headers={"Authorization": "Basic abc"}).status_code == 401
    container.engine.dispose()
    assert fake.posts == []


def test_a_hand_off_from_a_personal_chat_is_answered_back_in_that_chat(h: Harness) -> None:
    question = h.teams.personal("anna", "SAE window?", activity_id="4001")
    h.post(question)
    answer_id = h.fake.wait_for()[0].actions()[0]["data"]["answer_id"]
    h.post(h.teams.invoke("anna", "ask_cra", {"answer_id": answer_id}, on=question))
    card = h.fake.wait_for(where=lambda p: p.conversation == f"a:dm-{CARLA_AAD}")[0]
    question_id = card.actions()[0]["data"]["question_id"]
    on = {"id": "msg-cra", "conversation": {"id": f"a:dm-{CARLA_AAD}", "conversationType": "personal"}}
    h.fake.reset()
    reply = {"question_id": question_id, "answer_text": "24 hours, EDC form."}
    assert h.post(h.teams.invoke("carla", "answer_question", reply, on=on)).status_code == 200
    [back] = h.fake.wait_for(where=lambda p: "24 hours, EDC form." in p.all_text)
    assert back.conversation == "a:dm-anna" and back.path == "/v3/conversations/a:dm-anna/activities"
    assert "Answer from your CRA, Carla CRA" in back.all_text
