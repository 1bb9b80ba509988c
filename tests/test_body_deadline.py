"""A request whose body never arrives is answered 408 and lets go of its connection (probe: a client that
declared `Content-Length` and then sent nothing held the connection for as long as it liked)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from core.clock import VirtualClock, parse_instant
from core.settings import Settings
from siteline.api import body_deadline
from siteline.api.body_deadline import BodyDeadline
from siteline.container import build
from siteline.server import create_app
from tests.test_api_hostile_input import Served


@pytest.fixture
def base(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(body_deadline, "BODY_SECONDS", 0.5)
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url,
                        SITELINE_API_TOKEN="s3cret", SITELINE_RUN_SCHEDULER=False,
                        SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="signing")  # fmt: skip
    container = build(settings, clock=VirtualClock(parse_instant("2026-03-09T09:00:00Z")))
    try:
        with Served(create_app(container)) as url:
            yield url
    finally:
        container.engine.dispose()


def _half_sent(url: str, path: str) -> bytes:
    """Declare a 1,000-byte body, send 5 bytes of it, and read what the server says (10 s at most)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"que')
        received = b""
        while chunk := sock.recv(4096):  # the server closes the connection after its answer
            received += chunk
        return received


@pytest.mark.parametrize("path", ["/api/ask", "/api/updates", "/slack/events"])  # each reads its body
def test_a_body_that_never_arrives_is_408_and_the_connection_is_closed(base: str, path: str) -> None:
    answer = _half_sent(base, path)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"the request body did not arrive within" in rest
    with httpx.Client(base_url=base) as http:  # the server itself is still serving
        assert http.get("/healthz").status_code == 200


def test_a_complete_body_is_served_as_before(base: str) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer s3cret"}) as http:
        resp = http.post("/api/ask", json={"question": "", "study": "ALPHA"})
    assert resp.status_code == 422 and "question" in resp.text


def test_after_the_body_is_complete_waiting_for_the_client_is_not_cut_short() -> None:
    """A streaming answer waits on `receive` for the client's disconnect, well past the body's deadline."""
    now = [0.0]
    sent: list[dict] = []

    async def app(scope, receive, send) -> None:
        assert (await receive())["type"] == "http.request"
        now[0] = 100.0  # long after the deadline
        assert (await receive())["type"] == "http.disconnect"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    inbox = [{"type": "http.request", "body": b"{}", "more_body": False}, {"type": "http.disconnect"}]

    async def receive() -> dict:
        return inbox.pop(0)

    async def send(message: dict) -> None:
        sent.append(message)

    guarded = BodyDeadline(app, seconds=1.0, clock=lambda: now[0])
    asyncio.run(guarded({"type": "http", "method": "POST", "path": "/"}, receive, send))
    assert sent[0]["status"] == 200 and sent[1]["body"] == b"done"


def test_what_the_route_said_about_the_missing_body_becomes_the_408() -> None:
    sent: list[dict] = []

    async def app(scope, receive, send) -> None:
        message = await receive()  # the deadline passes here
        status = 400 if message["type"] == "http.disconnect" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"There was an error parsing the body"})

    async def receive() -> dict:
        await asyncio.sleep(10)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(BodyDeadline(app, seconds=0.05)({"type": "http", "method": "POST", "path": "/"}, receive, send))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 408 and json.loads(sent[1]["body"])["detail"].startswith("the request body")
