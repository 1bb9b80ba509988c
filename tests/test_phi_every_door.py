"""Issue 10, item 1: PHI is redacted on every path text enters, by the one guard (privacy), before it
is stored, logged, sent or embedded — not only on the chat path.

The real guard throughout. Site staff's free text (a question, an escalation summary) gets the whole
guard as in chat; a sponsor/CRO update keeps its dates, staff names and helpdesk numbers and loses
only identifiers that can only be a participant's (MRN, SSN, DOB, ages over 89).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.directory import parse_entries, upsert
from core.models import AuditRow, DeliveryRow
from core.settings import Settings
from escalation.models import EscalationRow
from knowledge.types import Answer
from scheduler.plugins import load_plugins
from siteline.cli import app as cli
from siteline.container import Container, build
from siteline.replay import parse, replay
from siteline.server import create_app
from tests.test_api_hostile_input import SPONSOR, TOKEN, UPDATE, Served
from tests.test_escalation_support import PEOPLE, SITES
from triage.models import UpdateRow

MRN, DOB = "48213377", "04/12/1961"
PHI = f"Patient John Smith (MRN {MRN}, DOB {DOB})"


@dataclass
class RecordingKnowledge:
    """Stands for the knowledge engine, which stores, logs and embeds the question it is given."""

    asked: list[dict[str, Any]] = field(default_factory=list)

    def has_documents(self, studies: list[str]) -> bool:
        return True

    def ask(self, question: str, *, studies: list[str], asker: str, surface: str, now: datetime, **kw: Any) -> Answer:
        self.asked.append({"question": question, "surface": surface, **kw})
        return Answer(answer="Not found in the study documents.", abstained=True)


@dataclass
class World:
    http: httpx.Client
    container: Container
    knowledge: RecordingKnowledge

    def everything_stored(self) -> str:
        """Every row a raise or an update writes, as one string to search."""
        with transaction(self.container.factory) as s:
            rows = [*s.execute(select(EscalationRow)).scalars(), *s.execute(select(UpdateRow)).scalars()]
            rows += [*s.execute(select(DeliveryRow)).scalars(), *s.execute(select(AuditRow)).scalars()]
            return json.dumps([{k: v for k, v in vars(r).items() if not k.startswith("_")} for r in rows], default=str)


@pytest.fixture
def world(tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture) -> Iterator[World]:
    caplog.set_level(logging.INFO)
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url,
                        SITELINE_API_TOKEN="s3cret", SITELINE_RUN_SCHEDULER=False)  # fmt: skip
    container = build(settings, clock=VirtualClock(parse_instant("2026-03-09T09:00:00Z")))
    entries = [(s["site_id"], {"type": "site", **s}) for s in SITES]
    entries += [(p["person_id"], {"type": "person", **p}) for p in [*PEOPLE, SPONSOR]]
    with transaction(container.factory) as session:
        upsert(session, *parse_entries(entries))
    knowledge = RecordingKnowledge()
    container.__dict__["knowledge"] = knowledge
    try:
        with Served(create_app(container)) as base, httpx.Client(base_url=base, headers=TOKEN, timeout=30) as http:
            yield World(http, container, knowledge)
    finally:
        container.engine.dispose()
    server_side = [r for r in caplog.get_records("call") if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(logging.Formatter().format(r) for r in server_side)  # not the test client's own log
    assert MRN not in logged and "John Smith" not in logged  # access and error logs alike


def test_api_ask_redacts_the_question_before_the_knowledge_engine_sees_it(world: World) -> None:
    resp = world.http.post("/api/ask", json={"question": f"{PHI} had an SAE: reporting window?", "study": "ALPHA"})
    assert resp.status_code == 200, resp.text
    [asked] = world.knowledge.asked
    assert asked["question"] == "Patient [NAME] (MRN [MRN], DOB [DOB]) had an SAE: reporting window?"
    assert asked["phi_redacted"] is True


def test_api_escalation_stores_and_sends_only_the_redacted_summary(world: World) -> None:
    body = {"id": "phi-1", "site": "S03", "study": "ALPHA", "raised_by": "staff3",
            "summary": f"{PHI}: study drug kit left out of the fridge for 30 h"}  # fmt: skip
    resp = world.http.post("/api/escalations", json=body)
    assert resp.status_code == 201, resp.text
    assert (
        resp.json()["summary"]
        == "Patient [NAME] (MRN [MRN], DOB [DOB]): study drug kit left out of the fridge for 30 h"
    )
    stored = world.everything_stored()
    assert "[MRN]" in stored and MRN not in stored and "John Smith" not in stored and DOB not in stored
    assert world.http.post("/api/escalations", json=body).status_code == 200  # a retry is still recognised


def test_escalation_path_takes_free_text_only_in_a_post_body(world: World) -> None:
    query = {"site": "S03", "study": "ALPHA", "summary": f"{PHI}: pregnancy reported"}
    refused = world.http.get("/api/escalations/path", params=query)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["query", "summary"]
    structured = world.http.get("/api/escalations/path", params={"site": "S03", "study": "ALPHA", "severity": "high"})
    assert structured.status_code == 200 and structured.json()["severity"] == "high"
    posted = world.http.post("/api/escalations/path", json=query)
    assert posted.status_code == 200, posted.text
    assert (
        posted.json()["category"]
        == world.http.post("/api/escalations/path", json={**query, "summary": "pregnancy reported"}).json()["category"]
    )


def test_api_update_loses_participant_ids_but_keeps_its_message(world: World) -> None:
    body = {**UPDATE, "subject": "Re-consent by 20 March 2026",
            "body": f"Re-consent MRN {MRN} (DOB {DOB}) before the visit; helpdesk +1 800 555 0199."}  # fmt: skip
    resp = world.http.post("/api/updates", json=body)
    assert resp.status_code == 201, resp.text
    stored = world.everything_stored()
    assert MRN not in stored and DOB not in stored
    with transaction(world.container.factory) as s:
        update = s.execute(select(UpdateRow)).scalar_one()
    assert update.subject == "Re-consent by 20 March 2026"
    assert update.body == "Re-consent MRN [MRN] (DOB [DOB]) before the visit; helpdesk +1 800 555 0199."


# -- the CLI and replay ----------------------------------------------------------------------------

runner = CliRunner()


def test_cli_ask_and_notify_redact(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SITELINE_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    container = build(Settings(_env_file=None))
    entries = [(s["site_id"], {"type": "site", **s}) for s in SITES]
    entries += [(p["person_id"], {"type": "person", **p}) for p in [*PEOPLE, SPONSOR]]
    with transaction(container.factory) as session:
        upsert(session, *parse_entries(entries))
    knowledge = RecordingKnowledge()
    container.__dict__["knowledge"] = knowledge
    monkeypatch.setattr("siteline.cli.knowledge.container", lambda: container)
    try:
        asked = runner.invoke(cli, ["ask", f"{PHI}: SAE window?", "--study", "ALPHA", "--json"])
        assert asked.exit_code == 0, asked.output
        assert knowledge.asked[0]["question"] == "Patient [NAME] (MRN [MRN], DOB [DOB]): SAE window?"
        assert knowledge.asked[0]["phi_redacted"] is True
        sent = runner.invoke(cli, ["notify", "--study", "ALPHA", "--sites", "all", "--subject", f"MRN {MRN} recall",
                                   "--body", f"Participant DOB {DOB}: stop dosing.", "--from", "sm-upd",
                                   "--org", "sponsor", "--id", "n-phi", "--json"])  # fmt: skip
        assert sent.exit_code == 0, sent.output
        with transaction(container.factory) as s:
            update = s.execute(select(UpdateRow)).scalar_one()
            payloads = json.dumps([d.payload for d in s.execute(select(DeliveryRow)).scalars()])
        assert (update.subject, update.body) == ("MRN [MRN] recall", "Participant DOB [DOB]: stop dosing.")
        assert MRN not in payloads and DOB not in payloads and MRN not in sent.output
    finally:
        container.engine.dispose()
    assert MRN not in caplog.text


def test_replay_redacts_updates_and_escalations(tmp_path: Path) -> None:
    lines = [{"type": "site", **SITES[2]}, *({"type": "person", **p} for p in PEOPLE),
             {"type": "update", **{**UPDATE, "from": "sm1"}, "body": f"Recall: MRN {MRN} received lot L4242."},
             {"type": "escalation", "id": "e1", "site": "S03", "study": "ALPHA", "raised_by": "staff3",
              "summary": f"{PHI} got a kit from the recalled lot"},
             {"type": "end"}]  # fmt: skip
    at = "2026-03-09T09:00:00Z"
    scenario = tmp_path / "s.jsonl"
    scenario.write_text("".join(json.dumps({"at": at, **line}) + "\n" for line in lines), encoding="utf-8")
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home")
    parsed = {line.type: line.data for line in parse(scenario, load_plugins(settings))}  # what the engines get
    assert parsed["update"]["body"] == "Recall: MRN [MRN] received lot L4242."
    assert parsed["escalation"]["summary"] == "Patient [NAME] (MRN [MRN], DOB [DOB]) got a kit from the recalled lot"
    out = tmp_path / "out.jsonl"
    with out.open("w", encoding="utf-8") as f:
        assert replay(scenario, f, settings) > 0
    text = out.read_text(encoding="utf-8")
    assert MRN not in text and "John Smith" not in text and DOB not in text


def test_access_log_lines_carry_no_query_string(world: World, caplog: pytest.LogCaptureFixture) -> None:
    world.http.get("/api/escalations", params={"site": "S03", "status": "all"})
    world.http.get("/api/escalations/path", params={"site": "S03", "study": "ALPHA", "summary": f"MRN {MRN}"})
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(lines) == 2, caplog.text  # the access log is on, and captured
    assert all("?" not in line and "S03" not in line for line in lines), lines
    assert "GET /api/escalations HTTP/1.1" in lines[0]
