"""Socket Mode (SLACK_APP_TOKEN): `serve` connects out to Slack and answers events that arrive over
the WebSocket, acknowledging each envelope; a local WebSocket server plays Slack's side."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from assistant.service import Assistant
from core.settings import Settings
from siteline.container import build
from siteline.server import create_app
from tests.chat_world import TABLE, FakeGuard, FakeKnowledge, load_directory
from tests.fake_slack import FakeSlack, SlackPayloads


class SocketSlack:
    """Sends `hello` and one events_api envelope to whoever connects, and records the acks."""

    def __init__(self, envelope: dict[str, Any]) -> None:
        self.envelope = envelope
        self.acks: list[dict[str, Any]] = []
        self.acked = threading.Event()
        self.server = serve(self._session, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"

    def _session(self, ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        ws.send(json.dumps(self.envelope))
        with contextlib.suppress(ConnectionClosed):  # the client may drop the socket without a close frame
            for raw in ws:
                self.acks.append(json.loads(raw))
                self.acked.set()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    f = FakeSlack().start()
    yield f
    f.stop()


def test_an_event_over_socket_mode_is_acked_and_answered_in_thread(tmp_path: Path, fake: FakeSlack) -> None:
    body = json.loads(SlackPayloads("unused", fake).mention("U_ANNA", "C_S01", "SAE window?", ts="3000.0001"))
    socket = SocketSlack(
        {
            "envelope_id": "env-1",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": body,
        }
    )
    fake.socket_url = socket.url
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path,
        SITELINE_DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}",
        SLACK_BOT_TOKEN="xoxb-s",
        SLACK_SIGNING_SECRET="s",
        SLACK_APP_TOKEN="xapp-1-socket",
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
    try:
        with TestClient(create_app(container)):
            [opened] = fake.wait_for("apps.connections.open")
            assert opened.headers["Authorization"] == "Bearer xapp-1-socket"
            [answer] = fake.wait_for("chat.postMessage")
            assert (answer.args["channel"], answer.args["thread_ts"]) == ("C_S01", "3000.0001")
            assert "ORION Protocol" in answer.text_of_blocks
            assert socket.acked.wait(10) and socket.acks[0]["envelope_id"] == "env-1"
    finally:
        socket.stop()
        container.engine.dispose()
