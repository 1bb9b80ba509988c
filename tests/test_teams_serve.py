"""End to end through a running `siteline serve` process in Teams' anonymous local mode: the real
knowledge engine on a tiny two-study corpus, the real PHI guard, the directory imported with the
CLI, Bot Framework Activity JSON posted over HTTP to /api/messages, and assertions on what a fake
connector (the activities' serviceUrl) received, the database and the service log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from core.db import make_engine, make_session_factory, transaction
from knowledge.models import QuestionRow
from tests.fake_teams_connector import CARLA_AAD, Activities, FakeConnector, Post, teams_directory
from tests.test_slack_serve import PHI_QUESTION, SAE_QUESTION, Serve, run_cli, write_corpus

pytestmark = pytest.mark.slow

S01 = "19:s01@thread.tacv2"


@dataclass
class World:
    serve: Serve
    fake: FakeConnector
    teams: Activities
    db_url: str

    def post(self, activity: dict[str, Any], **headers: str) -> httpx.Response:
        return httpx.post(f"{self.serve.url}/api/messages", json=activity, headers=headers, timeout=10)

    def answered(self, activity_id: str) -> Post:
        [reply] = self.fake.wait_for(timeout=60, where=lambda p: p.reply_to == activity_id)
        return reply

    def questions(self) -> list[QuestionRow]:
        engine = make_engine(self.db_url)
        try:
            with transaction(make_session_factory(engine)) as s:
                return list(s.execute(select(QuestionRow).order_by(QuestionRow.id)).scalars())
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("teams-serve")
    fake = FakeConnector().start()
    db_url = f"sqlite:///{root / 'siteline.db'}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "SLACK_", "OPENAI_", "TEAMS_"))}
    env = clean | {
        "SITELINE_HOME": str(root / "home"),
        "SITELINE_DATABASE_URL": db_url,
        "SITELINE_TEAMS_ANONYMOUS": "1",
        "SITELINE_LOG_LEVEL": "INFO",
    }
    sites, people = teams_directory(fake.url)
    (root / "directory.yaml").write_text(yaml.safe_dump({"sites": sites, "people": people}, sort_keys=False))
    run_cli(env, "directory", "import", str(root / "directory.yaml"))
    orion, vega = write_corpus(root / "corpus")
    run_cli(env, "ingest", str(orion), "--study", "ORION", "--kind", "protocol", "--version", "3.0")
    run_cli(env, "ingest", str(vega), "--study", "VEGA", "--kind", "protocol", "--version", "1.1")
    serve = Serve(env, root / "serve.log")
    serve.start()
    try:
        yield World(serve, fake, Activities(fake.url), db_url)
    finally:
        serve.stop()
        fake.stop()


@pytest.fixture
def w(world: World) -> World:
    world.fake.reset()
    return world


def test_a_mention_gets_a_cited_card_from_the_real_engine(w: World) -> None:
    assert "ANONYMOUS LOCAL MODE" in w.serve.log.read_text()
    assert httpx.get(f"{w.serve.url}/healthz").json()["teams"] is True
    resp = w.post(w.teams.mention("anna", "S01", SAE_QUESTION, activity_id="5001"))
    assert resp.status_code == 202
    answer = w.answered("5001")
    assert answer.conversation == f"{S01};messageid=5001"
    text = answer.all_text
    assert "24 hours" in text
    assert "version 3.0" in text and "§ 8.3 Serious Adverse Events" in text and "p. 2" in text
    assert "must be reported to the sponsor within 24 hours" in text  # the verbatim quote
    assert answer.action_titles() == ["Helpful", "Not helpful", "Ask my CRA"]
    question = w.questions()[-1]
    assert (question.asker, question.surface, question.studies) == ("anna", "teams", ["ORION"])


def test_a_personal_chat_question_from_a_vega_user_never_shows_orion(w: World) -> None:
    w.post(w.teams.personal("ben", SAE_QUESTION, activity_id="5002"))
    reply = w.answered("5002")
    assert reply.conversation == "a:dm-ben" and "ORION" not in reply.all_text
    assert w.questions()[-1].studies == ["VEGA"]


def test_identifiers_never_reach_storage_logs_or_the_engine(w: World) -> None:
    w.post(w.teams.personal("anna", PHI_QUESTION, activity_id="5003"))
    reply = w.answered("5003")
    assert "🔒" in reply.all_text and "24 hours" in reply.all_text
    stored = w.questions()[-1]
    assert stored.phi_redacted is True
    for identifier in ("John", "Smith", "48213377", "04/12/1961"):
        assert identifier not in stored.text
        assert identifier not in w.serve.log.read_text(errors="replace")


def test_a_redelivery_after_a_restart_is_not_answered_again(w: World) -> None:
    question = w.teams.mention("anna", "S01", SAE_QUESTION, activity_id="5004")
    w.post(question)
    w.answered("5004")
    w.serve.stop()
    w.serve.start()
    assert w.post(question).status_code == 202
    w.serve.wait_log("teams activity 5004@")
    w.post(w.teams.personal("anna", SAE_QUESTION, activity_id="5005"))  # something that must be answered
    w.answered("5005")
    assert [p.reply_to for p in w.fake.messages()] == ["5004", "5005"]


def test_ask_my_cra_reaches_the_cra_and_a_bogus_token_is_refused(w: World) -> None:
    question = w.teams.mention("anna", "S01", SAE_QUESTION, activity_id="5006")
    w.post(question)
    answer_id = w.answered("5006").actions()[2]["data"]["answer_id"]
    resp = w.post(w.teams.invoke("anna", "ask_cra", {"answer_id": answer_id}, on=question))
    assert resp.status_code == 200 and "Carla CRA" in resp.json()["value"]
    card = w.fake.wait_for(where=lambda p: p.conversation == f"a:dm-{CARLA_AAD}")[0]
    assert SAE_QUESTION in card.all_text and "Anna Site" in card.all_text
    assert card.action_titles() == ["Send answer"]
    bogus = w.post(w.teams.personal("anna", SAE_QUESTION), Authorization="Bearer forged.token.value")
    assert bogus.status_code == 401
