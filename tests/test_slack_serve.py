"""End to end through a running `siteline serve` process: the real knowledge engine on a tiny
two-study corpus, the real PHI guard, the directory imported with the CLI, signed HTTP requests
into /slack/events and assertions on a fake Slack Web API, the database and the service log.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.db import make_engine, make_session_factory, transaction
from core.models import AuditRow
from knowledge.models import QuestionRow
from tests.chat_world import directory_yaml, write_corpus
from tests.fake_slack import Call, FakeSlack, SlackPayloads

pytestmark = pytest.mark.slow

SECRET = "serve-signing-secret"
BIN = Path(sys.executable).parent
SAE_QUESTION = "How soon must serious adverse events be reported to the sponsor?"
PHI_QUESTION = (
    "Patient John Smith (MRN 48213377, DOB 04/12/1961) had a serious adverse event yesterday. "
    "How soon must serious adverse events be reported to the sponsor?"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Serve:
    """One `siteline serve` process; `restart` keeps the database (a retry after a restart)."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "siteline"), "serve", "--port", str(self.port)], env=self.env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"siteline serve exited early:\n{self.log.read_text()[-3000:]}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"siteline serve did not answer /healthz within 60 s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)

    def wait_log(self, needle: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"{needle!r} not in the service log"
            time.sleep(0.05)


@dataclass
class World:
    serve: Serve
    fake: FakeSlack
    slack: SlackPayloads
    db_url: str

    def post(self, body: str, content_type: str = "application/json", **kw: Any) -> httpx.Response:
        headers = self.slack.headers(body, content_type, **kw)
        return httpx.post(f"{self.serve.url}/slack/events", content=body, headers=headers, timeout=10)

    def answered(self, ts: str) -> Call:
        """The reply in the thread of question `ts`, once the bot has also finished (✅ on the question)."""
        [reply] = self.fake.wait_for("chat.postMessage", timeout=60, where=lambda c: c.args.get("thread_ts") == ts)
        self.fake.wait_for(
            "reactions.add", where=lambda c: (c.args["timestamp"], c.args["name"]) == (ts, "white_check_mark")
        )
        return reply

    def rows(self, model: Any) -> list[Any]:
        engine = make_engine(self.db_url)
        try:
            with transaction(make_session_factory(engine)) as s:
                return list(s.execute(select(model).order_by(model.id)).scalars())
        finally:
            engine.dispose()


def run_cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(BIN / "siteline"), *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"siteline {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("serve")
    fake = FakeSlack().start()
    db_url = f"sqlite:///{root / 'siteline.db'}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "SLACK_", "OPENAI_"))}
    env = clean | {
        "SITELINE_HOME": str(root / "home"),
        "SITELINE_DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-serve",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "SITELINE_LOG_LEVEL": "INFO",
    }
    (root / "directory.yaml").write_text(directory_yaml())
    run_cli(env, "directory", "import", str(root / "directory.yaml"))
    orion, vega = write_corpus(root / "corpus")
    run_cli(env, "ingest", str(orion), "--study", "ORION", "--kind", "protocol", "--version", "3.0")
    run_cli(env, "ingest", str(vega), "--study", "VEGA", "--kind", "protocol", "--version", "1.1")
    serve = Serve(env, root / "serve.log")
    serve.start()
    try:
        yield World(serve, fake, SlackPayloads(SECRET, fake), db_url)
    finally:
        serve.stop()
        fake.stop()


@pytest.fixture
def w(world: World) -> World:
    world.fake.reset()
    return world


def test_a_mention_gets_a_cited_answer_from_the_real_engine(w: World) -> None:
    health = httpx.get(f"{w.serve.url}/healthz").json()
    assert health["slack"] is True
    resp = w.post(w.slack.mention("U_ANNA", "C_S01", SAE_QUESTION, ts="2000.0001"))
    assert resp.status_code == 200  # acked before the answer exists (latency: bench/bench_slack.py)
    answer = w.answered("2000.0001")
    assert answer.args["channel"] == "C_S01"
    text = answer.text_of_blocks
    assert "24 hours" in text
    assert "version 3.0" in text and "§ 8.3 Serious Adverse Events" in text and "p. 2" in text
    quotes = [b for b in answer.args["blocks"] if b["type"] == "context" and "within 24 hours" in json.dumps(b)]
    assert quotes and "must be reported to the sponsor within 24 hours" in json.dumps(quotes[0])
    question = w.rows(QuestionRow)[-1]
    assert (question.asker, question.surface, question.studies) == ("anna", "slack", ["ORION"])
    answered = [a for a in w.rows(AuditRow) if a.action == "knowledge.answer"][-1]
    assert answered.actor == "anna" and any("@3.0" in c for c in answered.detail["cited"])


def test_a_vega_dm_never_shows_an_orion_document(w: World) -> None:
    w.post(w.slack.dm("U_BEN", SAE_QUESTION, ts="2000.0002"))
    reply = w.answered("2000.0002")
    assert reply.args["channel"] == "DU_BEN" and "ORION" not in json.dumps(reply.args)
    assert w.rows(QuestionRow)[-1].studies == ["VEGA"]


def test_identifiers_never_reach_storage_logs_or_the_engine(w: World) -> None:
    w.post(w.slack.dm("U_ANNA", PHI_QUESTION, ts="2000.0003"))
    reply = w.answered("2000.0003")
    assert ":lock:" in reply.text_of_blocks and "24 hours" in reply.text_of_blocks
    stored = w.rows(QuestionRow)[-1]
    assert stored.phi_redacted is True
    for identifier in ("John", "Smith", "48213377", "04/12/1961"):
        assert identifier not in stored.text
        assert identifier not in w.serve.log.read_text(errors="replace")


def test_a_retry_after_a_restart_is_not_answered_again(w: World) -> None:
    body = w.slack.mention("U_ANNA", "C_S01", SAE_QUESTION, ts="2000.0004", event_id="EvSERVE-RESTART")
    w.post(body)
    w.answered("2000.0004")
    w.serve.stop()
    w.serve.start()
    assert w.post(body, retry=1).status_code == 200
    w.serve.wait_log("EvSERVE-RESTART already handled (retry 1)")
    w.post(w.slack.dm("U_ANNA", SAE_QUESTION, ts="2000.0005"))  # something that must be answered
    w.answered("2000.0005")
    posted = w.fake.of("chat.postMessage")
    assert [c.args["thread_ts"] for c in posted] == ["2000.0004", "2000.0005"]


def test_a_forged_request_is_refused(w: World) -> None:
    body = w.slack.mention("U_ANNA", "C_S01", SAE_QUESTION, ts="2000.0006")
    headers = w.slack.headers(body, "application/json") | {"X-Slack-Signature": "v0=" + "f" * 64}
    resp = httpx.post(f"{w.serve.url}/slack/events", content=body, headers=headers)
    assert resp.status_code == 401 and w.fake.calls == []
    w.serve.wait_log("refused a request with an invalid or stale signature")
    assert "How soon must serious adverse events" not in w.serve.log.read_text()  # no message text, ever
    assert "`token` will be unused" not in w.serve.log.read_text()


def test_ask_my_cra_reaches_the_cra_through_serve(w: World) -> None:
    w.post(w.slack.mention("U_ANNA", "C_S01", SAE_QUESTION, ts="2000.0007"))
    answer = w.answered("2000.0007")
    answer_id = answer.args["blocks"][-1]["elements"][0]["value"]
    message = {"ts": "1700000000.000100", "thread_ts": "2000.0007", "blocks": answer.args["blocks"]}
    w.post(
        w.slack.click("U_ANNA", "ask_cra", answer_id, channel="C_S01", message=message),
        "application/x-www-form-urlencoded",
    )
    dm = w.fake.wait_for("chat.postMessage", where=lambda c: c.args["channel"] == "DU_CARLA")[0]
    assert SAE_QUESTION in dm.text_of_blocks and "Anna Site" in dm.text_of_blocks
