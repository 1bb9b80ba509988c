"""Issue 10, item 4: the chat endpoints check who is calling before they parse, and never read an
unauthenticated body past a small cap.

`/slack/events`: an unsigned or forged body is 401 without being parsed, a signed body that does
not parse is 400 (never 500), and an oversized body is 413 whether or not it declares its length.
`/api/messages` (Teams) applies the same cap before authentication.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests import test_slack_events as slack_world
from tests.fake_teams_connector import Activities, FakeConnector
from tests.test_slack_events import FORM, JSON, Harness
from tests.test_teams_bot import Harness as TeamsHarness
from tests.test_teams_bot import running

MALFORMED = [
    (FORM, "payload=%7Bnot-json"),  # an interaction whose payload is not JSON
    (JSON, "{not json"),
    (JSON, "[1, 2, 3]"),
    (FORM, "payload=%5B%5D"),
    (JSON, '"just a string"'),
    # found by tests/test_fuzz_http.py: parse, but not in the shape Slack sends (bolt failed with 500)
    (FORM, "payload=" + quote(json.dumps({"type": "block_actions", "actions": None, "team": {"id": "T1"}}))),
    (FORM, "payload=" + quote(json.dumps({"type": "view_submission", "view": []}))),
    (JSON, json.dumps({"type": "event_callback", "event": {"type": "app_mention", "text": "hi", "ts": "1"}})),
]
MAX_BODY = 1_000_000  # bot.http_body.MAX_BODY: Slack and Teams payloads are a few KB
fake, h = slack_world.fake, slack_world.h  # the signed-request harness of the Slack scenario tests


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A streamed body with no Content-Length (chunked transfer), as an attacker would send it."""
    sent = 0
    while sent < total:
        yield b"a" * min(size, total - sent)
        sent += size


@pytest.mark.parametrize(("content_type", "body"), MALFORMED)
def test_an_unsigned_malformed_slack_body_is_401_without_a_traceback(
    h: Harness, content_type: str, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    resp = h.client.post("/slack/events", content=body, headers={"Content-Type": content_type})
    assert resp.status_code == 401
    assert "Traceback" not in caplog.text and "not-json" not in caplog.text


@pytest.mark.parametrize(("content_type", "body"), MALFORMED)
def test_a_signed_malformed_slack_body_is_400(h: Harness, content_type: str, body: str) -> None:
    resp = h.post(body, content_type)
    assert resp.status_code == 400, resp.text
    assert h.fake.of("chat.postMessage") == []


def test_an_oversized_slack_body_is_413_with_or_without_a_declared_length(h: Harness) -> None:
    big = "x" * (MAX_BODY + 1)
    assert h.client.post("/slack/events", content=big, headers={"Content-Type": JSON}).status_code == 413
    streamed = h.client.post("/slack/events", content=chunks(MAX_BODY * 3), headers={"Content-Type": JSON})
    assert streamed.status_code == 413
    assert h.post(big).status_code == 413  # signed or not, nothing that size is a Slack payload
    # and the endpoint still works afterwards
    assert h.post('{"type": "url_verification", "challenge": "c-9", "token": "t"}').json() == {"challenge": "c-9"}


@pytest.fixture
def teams(tmp_path: Path, db_url: str) -> Iterator[TeamsHarness]:
    connector = FakeConnector().start()
    try:
        with running(tmp_path, db_url, connector) as harness:
            yield harness
    finally:
        connector.stop()


def test_an_oversized_teams_body_is_413_before_authentication(teams: TeamsHarness) -> None:
    bogus = {"Authorization": "Bearer not.a.jwt", "Content-Type": "application/json"}
    declared = teams.http.post("/api/messages", content=b"{" + b" " * MAX_BODY + b"}", headers=bogus)
    assert declared.status_code == 413
    streamed = teams.http.post("/api/messages", content=chunks(MAX_BODY * 3), headers=bogus)
    assert streamed.status_code == 413
    ok = teams.post(Activities(teams.fake.url).personal("anna", "SAE window?"))
    assert ok.status_code == 202


def test_a_nul_byte_in_a_chat_message_is_dropped_and_the_question_answered(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10 item 5 on the chat side: Slack cannot be told 422, so the NUL is dropped from the text
    (PostgreSQL cannot store it) and the question is answered as if it were not there."""
    caplog.set_level(logging.DEBUG)
    h.post(h.slack.dm("U_BEN", "What is the visit 3\x00 window? ZEBRA\x00", ts="1800.0101"))
    [answer] = h.fake.wait_for("chat.postMessage")
    assert "VEGA Protocol" in answer.text_of_blocks
    assert h.knowledge.calls[-1]["question"] == "What is the visit 3 window? ZEBRA"
    assert "ZEBRA" not in caplog.text and "Traceback" not in caplog.text


# -- found by a probe (session 19) ------------------------------------------------------------------------------


def _signed_bytes(body: bytes, timestamp: str, content_type: str = JSON) -> dict[str, str]:
    import hashlib
    import hmac

    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(slack_world.SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


@pytest.mark.parametrize("timestamp", ["abc", "", "1796539886.958", "9" * 400])
def test_a_timestamp_that_is_not_whole_seconds_is_401_signed_or_not(
    h: Harness, timestamp: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The timestamp header was parsed with int() inside the SDK's check: anyone could cause a 500 without the
    signing secret."""
    caplog.set_level(logging.DEBUG)
    body = b'{"type": "url_verification", "challenge": "c-1", "token": "t"}'
    for headers in (_signed_bytes(body, timestamp), {**_signed_bytes(body, timestamp), "X-Slack-Signature": "v0=00"}):
        resp = h.client.post("/slack/events", content=body, headers=headers)
        assert resp.status_code == 401, resp.text
    assert "Traceback" not in caplog.text


VIEW_WITHOUT_TYPE = {
    "type": "view_submission",
    "user": {"id": "U1"},
    "team": {"id": "T1"},
    "view": {"id": "V1", "callback_id": "escalate_submit"},
}


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "event_callback", "event": {"type": "app_mention", "text": "\xff\xfe MRN 123"}}',
        b'{"type": "event_callback", "event": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
        ("payload=" + quote(json.dumps(VIEW_WITHOUT_TYPE))).encode(),
    ],
    ids=["not-utf8", "nested-too-deep", "view-without-type"],
)
def test_a_signed_body_slack_never_sends_is_400_not_500(
    h: Harness, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    content_type = FORM if body.startswith(b"payload=") else JSON
    headers = _signed_bytes(body, str(int(time.time())), content_type)
    resp = h.client.post("/slack/events", content=body, headers=headers)
    assert resp.status_code == 400, resp.text
    assert "Traceback" not in caplog.text and "MRN" not in caplog.text


def test_an_unreachable_slack_api_is_asked_for_the_bots_identity_once_a_minute(tmp_path: Path) -> None:
    """Found by a probe: with Slack's API unreachable every signed event waited ~1 s for auth.test, one at a
    time; twenty at once took 22 s to acknowledge."""
    from bot.slack.app import AUTH_RETRY_S, bot_identity
    from core.settings import Settings

    class Unreachable:
        calls = 0

        def auth_test(self, token: str) -> dict[str, str]:
            Unreachable.calls += 1
            raise ConnectionRefusedError("no route to slack.com")

    now = [1000.0]
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    authorize = bot_identity(settings, clock=lambda: now[0])
    for _ in range(5):
        result = authorize(None, "T1", Unreachable())
        assert result.bot_token == "xoxb-1" and result.bot_user_id is None
    assert Unreachable.calls == 1
    now[0] += AUTH_RETRY_S
    authorize(None, "T1", Unreachable())
    assert Unreachable.calls == 2
