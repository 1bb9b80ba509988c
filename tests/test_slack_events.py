"""Scenario tests through the real dispatcher: signed requests into POST /slack/events of the
FastAPI app, assertions on the calls recorded by a fake Slack Web API and on database rows.

Runs on SQLite and PostgreSQL with the fake knowledge engine and PHI guard of tests.chat_world
(tests/test_slack_serve.py drives a running `siteline serve` with the real ones).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from assistant.models import ChatAnswerRow, OpenQuestionRow
from assistant.service import Assistant, ChatUser
from bot.slack.runtime import SlackRuntime
from core.db import transaction
from core.models import AuditRow, DeliveryRow
from core.settings import Settings
from knowledge.models import FeedbackRow, QuestionRow
from siteline.container import Container, build
from siteline.server import create_app
from tests.chat_world import TABLE, FakeGuard, FakeKnowledge, load_directory
from tests.fake_slack import Call, FakeSlack, SlackPayloads

SECRET = "test-signing-secret"
JSON, FORM = "application/json", "application/x-www-form-urlencoded"


@dataclass
class Harness:
    client: TestClient
    fake: FakeSlack
    slack: SlackPayloads
    container: Container
    knowledge: FakeKnowledge

    def post(self, body: str, content_type: str = JSON, **kw: Any) -> Any:
        return self.client.post("/slack/events", content=body, headers=self.slack.headers(body, content_type, **kw))

    def answers(self, **where: str) -> list[Call]:
        return [c for c in self.fake.of("chat.postMessage") if all(c.args.get(k) == v for k, v in where.items())]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    yield f
    f.stop()


@pytest.fixture
def h(tmp_path: Path, db_url: str, fake: FakeSlack) -> Iterator[Harness]:
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=db_url,
        SLACK_BOT_TOKEN="xoxb-test-token",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.api_url,
        SITELINE_RUN_SCHEDULER=False,
    )
    container = build(settings)
    load_directory(container.factory)
    knowledge = FakeKnowledge(container.factory, TABLE)
    container.__dict__["assistant"] = Assistant(
        settings=settings,
        factory=container.factory,
        knowledge=lambda: knowledge,
        guard=FakeGuard,
        triage=lambda: container.triage,
    )
    with TestClient(create_app(container)) as client:
        yield Harness(client, fake, SlackPayloads(SECRET, fake), container, knowledge)
    container.engine.dispose()


def action_ids(call: Call) -> list[str]:
    return [e["action_id"] for b in call.args["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_url_verification_is_answered_once_signed(h: Harness) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    resp = h.post(body)
    assert resp.status_code == 200 and resp.json() == {"challenge": "c-123"}


def test_a_mention_is_answered_in_its_thread_with_citations_and_buttons(h: Harness) -> None:
    resp = h.post(h.slack.mention("U_ANNA", "C_S01", "what is the SAE reporting window?", ts="1700.0001"))
    assert resp.status_code == 200  # acked before the answer exists (latency: bench/bench_slack.py)
    [answer] = h.fake.wait_for("chat.postMessage")
    assert answer.args["channel"] == "C_S01" and answer.args["thread_ts"] == "1700.0001"
    text = answer.text_of_blocks
    assert "Report SAEs to the sponsor within 24 hours" in text
    assert "*ORION Protocol* · version 3.0 · § 8.3 Serious Adverse Events · p. 41" in text
    quote = [b for b in answer.args["blocks"] if b["type"] == "context" and "All SAEs must be reported" in str(b)]
    assert quote, "the verbatim quote is shown in a context block"
    assert action_ids(answer) == ["feedback_helpful", "feedback_not_helpful", "ask_cra"]
    h.fake.wait_for("reactions.add", 2)
    assert [c.args["name"] for c in h.fake.of("reactions.add")] == ["eyes", "white_check_mark"]
    assert [c.args["name"] for c in h.fake.of("reactions.remove")] == ["eyes"]
    assert h.fake.of("chat.postMessage")[0].headers.get("Authorization") == "Bearer xoxb-test-token"
    with transaction(h.container.factory) as s:
        stored = s.execute(select(QuestionRow)).scalar_one()
        assert stored.conversation_ref == {"platform": "slack", "conversation_id": "C_S01", "thread_ref": "1700.0001"}
    assert h.knowledge.calls == [
        {
            "question": "what is the SAE reporting window?",
            "studies": ["ORION"],
            "asker": "anna",
            "surface": "slack",
            "phi_redacted": False,
        }
    ]


def test_a_dm_is_answered_in_the_dm_thread(h: Harness) -> None:
    h.post(h.slack.dm("U_BEN", "What is the visit 3 window?", ts="1800.0001"))
    [answer] = h.fake.wait_for("chat.postMessage")
    assert (answer.args["channel"], answer.args["thread_ts"]) == ("DU_BEN", "1800.0001")
    assert "VEGA Protocol" in answer.text_of_blocks


def test_a_retried_delivery_never_produces_a_second_answer(h: Harness) -> None:
    body = h.slack.mention("U_ANNA", "C_S01", "SAE window?", ts="1700.0002", event_id="EvRETRY")
    assert h.post(body).status_code == 200
    assert h.post(body, retry=1).status_code == 200  # while the first is still being answered, or after
    h.fake.wait_for("chat.postMessage")
    assert h.post(body, retry=2).status_code == 200
    # The dedupe decision is taken before Slack gets its 200: no listener runs for a retry. A later,
    # different question is answered, and still only the first delivery of the retried one was.
    h.post(h.slack.dm("U_ANNA", "SAE window?", ts="1700.0012"))
    h.fake.wait_for("chat.postMessage", where=lambda c: c.args["thread_ts"] == "1700.0012")
    assert [c.args["thread_ts"] for c in h.fake.of("chat.postMessage")] == ["1700.0002", "1700.0012"]
    assert len(h.knowledge.calls) == 2


def test_forged_and_stale_signatures_are_rejected(h: Harness) -> None:
    body = h.slack.mention("U_ANNA", "C_S01", "SAE window?", ts="1700.0003")
    forged = h.slack.headers(body, JSON) | {"X-Slack-Signature": "v0=" + "0" * 64}
    assert h.client.post("/slack/events", content=body, headers=forged).status_code == 401
    assert h.post(body, age_s=6 * 60).status_code == 401
    tampered = body.replace("SAE window?", "SAE window?!")
    assert h.client.post("/slack/events", content=tampered, headers=h.slack.headers(body, JSON)).status_code == 401
    assert h.fake.calls == [] and h.knowledge.calls == []  # refused before any listener could start


def test_an_unknown_user_gets_a_polite_refusal_and_no_study_content(h: Harness) -> None:
    h.post(h.slack.mention("U_STRANGER", "C_S01", "SAE window?", ts="1700.0004"))
    [reply] = h.fake.wait_for("chat.postMessage")
    assert reply.args["thread_ts"] == "1700.0004" and "directory" in reply.args["text"]
    assert "ORION" not in json.dumps(reply.args) and h.knowledge.calls == []
    assert action_ids(reply) == []


def test_a_vega_user_never_sees_an_orion_document(h: Harness) -> None:
    h.post(h.slack.dm("U_BEN", "What is the SAE reporting window?", ts="1800.0002"))
    [reply] = h.fake.wait_for("chat.postMessage")
    assert h.knowledge.calls[-1]["studies"] == ["VEGA"]
    assert "ORION" not in json.dumps(reply.args) and "couldn't find" in reply.args["text"]
    assert "ask_cra" in action_ids(reply)  # nothing found: the CRA is one click away
    h.post(h.slack.mention("U_BEN", "C_S01", "What is the SAE reporting window?", ts="1800.0003"))
    refusal = h.fake.wait_for("chat.postMessage", 2)[-1]
    assert "not listed on any study of this site" in refusal.args["text"] and len(h.knowledge.calls) == 1


def test_identifiers_are_removed_and_the_user_is_told(h: Harness) -> None:
    h.post(h.slack.mention("U_ANNA", "C_S01", "pt MRN 5566778 had an SAE, when to report?", ts="1700.0005"))
    [reply] = h.fake.wait_for("chat.postMessage")
    assert "removed 1 identifier" in reply.text_of_blocks
    assert h.knowledge.calls[-1]["question"] == "pt [MRN] had an SAE, when to report?"
    with transaction(h.container.factory) as s:
        assert s.execute(select(ChatAnswerRow)).scalar_one().conversation_id == "C_S01"
        assert "5566778" not in s.execute(select(QuestionRow)).scalar_one().text


def test_buttons_feedback_ask_my_cra_and_the_cras_answer_back_in_the_thread(h: Harness) -> None:
    h.post(h.slack.mention("U_ANNA", "C_S01", "SAE window?", ts="1700.0006"))
    [answer] = h.fake.wait_for("chat.postMessage")
    answer_id = answer.args["blocks"][-1]["elements"][0]["value"]
    message = {"ts": "1700000000.000001", "thread_ts": "1700.0006", "blocks": answer.args["blocks"]}

    h.post(h.slack.click("U_ANNA", "feedback_helpful", answer_id, channel="C_S01", message=message), FORM)
    [thanks] = h.fake.wait_for("/response/U_ANNA")
    assert "Thanks for the feedback" in thanks.args["text"] and thanks.args["response_type"] == "ephemeral"

    h.fake.reset()
    assert (
        h.post(h.slack.click("U_ANNA", "ask_cra", answer_id, channel="C_S01", message=message), FORM).status_code == 200
    )
    posts = h.fake.wait_for("chat.postMessage", 2)
    note = next(c for c in posts if c.args["channel"] == "C_S01")
    assert note.args["thread_ts"] == "1700.0006" and "Carla CRA" in note.args["text"]
    assert h.fake.of("conversations.open")[0].args["users"] == "U_CARLA"
    dm = next(c for c in posts if c.args["channel"] == "DU_CARLA")
    assert "SAE window?" in dm.text_of_blocks and "All SAEs must be reported" in dm.text_of_blocks
    assert action_ids(dm) == ["answer_question"]
    qid = dm.args["blocks"][-1]["elements"][0]["value"]

    h.fake.reset()
    dm_message = {"ts": "1700000000.000009", "blocks": dm.args["blocks"]}
    h.post(h.slack.click("U_CARLA", "answer_question", qid, channel="DU_CARLA", message=dm_message), FORM)
    [opened] = h.fake.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "cra_answer" and "SAE window?" in opened.text_of_blocks

    submit = h.slack.interaction(
        {
            "type": "view_submission",
            "user": {"id": "U_CARLA"},
            "view": {
                **view,
                "id": "V1",
                "state": {
                    "values": {
                        "answer_block": {
                            "answer_text": {
                                "type": "plain_text_input",
                                "value": "Within 24 hours, by the EDC SAE form.",
                            }
                        }
                    }
                },
            },
        }
    )
    resp = h.post(submit, FORM)
    assert resp.status_code == 200 and resp.text == ""
    back = h.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "C_S01")[0]
    assert back.args["thread_ts"] == "1700.0006" and "Within 24 hours, by the EDC SAE form." in back.text_of_blocks
    assert "Carla CRA" in back.text_of_blocks
    [updated] = h.fake.wait_for("chat.update")
    assert (updated.args["channel"], updated.args["ts"]) == ("DU_CARLA", "1700000000.000009")

    with transaction(h.container.factory) as s:
        q = s.execute(select(OpenQuestionRow)).scalar_one()
        assert q.status == "answered" and q.answer_text == "Within 24 hours, by the EDC SAE form."
        assert {f.value for f in s.execute(select(FeedbackRow)).scalars()} == {"helpful", "ask_cra"}
        assert {d.status for d in s.execute(select(DeliveryRow)).scalars()} == {"sent"}
        actions = set(s.execute(select(AuditRow.action)).scalars())
    assert {"answer.feedback", "open_question.created", "open_question.answered"} <= actions

    # A second submission (another CRA, or a double click) is refused inside the form.
    again = h.post(submit, FORM)
    assert again.json()["response_action"] == "errors" and "already answered" in again.json()["errors"]["answer_block"]


def test_slash_commands(h: Harness) -> None:
    resp = h.post(h.slack.command("U_ANNA", "C_S01", "ask what is the SAE reporting window?"), FORM)
    assert resp.status_code == 200 and "Looking that up" in resp.text
    [private] = h.fake.wait_for("/commands/U_ANNA")
    assert private.args["response_type"] == "ephemeral" and "ORION Protocol" in private.text_of_blocks

    assert "/siteline ask" in h.post(h.slack.command("U_ANNA", "C_S01", "help"), FORM).text
    h.post(h.slack.command("U_ANNA", "C_S01", "escalate IP shipment late"), FORM)
    [form] = h.fake.wait_for("views.open")  # the raise form, its summary prefilled
    assert form.args["view"]["callback_id"] == "escalate_raise" and "IP shipment late" in json.dumps(form.args)

    h.fake.reset()
    h.post(h.slack.command("U_CARLA", "DU_CARLA", "questions"), FORM)
    [listing] = h.fake.wait_for("/commands/U_CARLA")
    assert "No open questions" in listing.text_of_blocks

    h.fake.reset()
    h.post(h.slack.command("U_STRANGER", "C_S01", "ask SAE window?"), FORM)
    [refusal] = h.fake.wait_for("/commands/U_STRANGER")
    assert "directory" in refusal.args["text"] and h.knowledge.calls[-1]["asker"] == "anna"


def test_app_home_shows_site_studies_digest_and_open_questions(h: Harness) -> None:
    h.post(h.slack.event({"type": "app_home_opened", "user": "U_ANNA", "channel": "DU_ANNA", "tab": "home"}))
    [home] = h.fake.wait_for("views.publish")
    assert home.args["user_id"] == "U_ANNA" and home.args["view"]["type"] == "home"
    text = home.text_of_blocks
    assert (
        "Berlin Heart Centre" in text and "ORION" in text and "daily at 09:00" in text and "No open questions" in text
    )


def test_a_failure_ends_in_an_apology_and_one_log_line_without_the_text(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.knowledge.fail = True
    with caplog.at_level(logging.INFO):
        h.post(h.slack.mention("U_ANNA", "C_S01", "secret-ish question about SAE", ts="1700.0007", event_id="EvFAIL"))
        [apology] = h.fake.wait_for("chat.postMessage")
    assert (
        apology.args["thread_ts"] == "1700.0007"
        and "Sorry" in apology.args["text"]
        and "EvFAIL" in apology.args["text"]
    )
    assert [c.args["name"] for c in h.fake.of("reactions.remove")] == ["eyes"]
    failures = [r for r in caplog.records if "failed" in r.getMessage() and "EvFAIL" in r.getMessage()]
    assert len(failures) == 1 and "RuntimeError" in failures[0].getMessage()
    assert "secret-ish" not in caplog.text


def test_slack_rate_limit_is_retried_after_retry_after(h: Harness) -> None:
    h.fake.fail_once("chat.postMessage", status=429, error="ratelimited", retry_after=1)
    h.post(h.slack.mention("U_ANNA", "C_S01", "SAE window?", ts="1700.0008"))
    first, second = h.fake.wait_for("chat.postMessage", 2, timeout=15)
    assert first.args["thread_ts"] == second.args["thread_ts"] == "1700.0008"
    assert "ORION Protocol" in second.text_of_blocks


def test_bot_messages_and_edits_are_ignored(h: Harness) -> None:
    own = {"type": "message", "channel_type": "im", "channel": "DU_ANNA", "bot_id": "BBOT", "text": "hi", "ts": "1.1"}
    edit = {"type": "message", "channel_type": "im", "channel": "DU_ANNA", "subtype": "message_changed", "ts": "1.2"}
    assert h.post(h.slack.event(own)).status_code == 200
    assert h.post(h.slack.event(edit)).status_code == 200
    answered = [c for c in h.fake.calls if c.method != "auth.test"]  # authorize learns the bot's ids once
    assert answered == [] and h.knowledge.calls == []  # the gate stops them before any listener


def test_the_real_phi_guard_removes_a_pasted_name_mrn_and_date_of_birth(h: Harness) -> None:
    settings = h.container.settings
    h.container.__dict__["assistant"] = Assistant(
        settings=settings,
        factory=h.container.factory,
        knowledge=lambda: h.knowledge,
        triage=lambda: h.container.triage,
    )  # guard=None: privacy.default_guard(), as in production
    text = "Pt Maria Gonzalez, MRN 7781234, DOB 03/14/1958 had an SAE. When is the SAE report due?"
    h.post(h.slack.dm("U_ANNA", text, ts="1800.0009"))
    [reply] = h.fake.wait_for("chat.postMessage", timeout=30)
    asked = h.knowledge.calls[-1]["question"]
    assert h.knowledge.calls[-1]["phi_redacted"] is True
    for identifier in ("Maria", "Gonzalez", "7781234", "03/14/1958"):
        assert identifier not in asked
    assert "SAE" in asked and ":lock:" in reply.text_of_blocks
    with transaction(h.container.factory) as s:
        stored = s.execute(select(QuestionRow)).scalar_one()
        assert stored.text == asked and stored.phi_redacted


def test_a_private_slash_answer_handed_to_the_cra_comes_back_by_dm(h: Harness) -> None:
    h.post(h.slack.command("U_ANNA", "C_S01", "ask SAE window?"), FORM)
    [private] = h.fake.wait_for("/commands/U_ANNA")
    answer_id = private.args["blocks"][-1]["elements"][0]["value"]
    ephemeral = h.slack.interaction(
        {
            "type": "block_actions",
            "user": {"id": "U_ANNA"},
            "response_url": h.fake.url("/response/U_ANNA"),
            "container": {"type": "message", "message_ts": "1", "channel_id": "C_S01", "is_ephemeral": True},
            "channel": {"id": "C_S01"},
            "actions": [{"type": "button", "action_id": "ask_cra", "block_id": "b", "value": answer_id}],
        }
    )
    h.post(ephemeral, FORM)
    [told] = h.fake.wait_for("/response/U_ANNA")
    assert "Carla CRA" in told.args["text"] and told.args["response_type"] == "ephemeral"
    dm = h.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "DU_CARLA")[0]
    qid = dm.args["blocks"][-1]["elements"][0]["value"]
    outcome = h.container.assistant.answer_open_question(
        int(qid), ChatUser("slack", "U_CARLA"), "Within 24 hours.", h.container.clock.now()
    )
    SlackRuntime(h.container).deliver(outcome.deliveries)
    back = h.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "DU_ANNA")[0]
    assert "thread_ts" not in back.args and "Within 24 hours." in back.text_of_blocks
