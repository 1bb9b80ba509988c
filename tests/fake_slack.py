"""A local fake of the Slack Web API that records every call (after bolt-python's mock_web_api_server).

Point `SLACK_API_URL` at `fake.api_url`; tests assert on what the bot posted, not on mocks of
our own functions. Also answers response URLs (`fake.url("/response/…")`), and can be told to
fail a method once (e.g. HTTP 429 with Retry-After, or `{"ok": false, "error": …}`).

Like real Slack, it refuses blocks and views that break Block Kit's rules (`slack_payload_rules`:
`invalid_blocks`, `msg_blocks_too_long`, `invalid_arguments` for views); each refusal is kept in
`rejected`, and `stop()` fails the test that caused one unless it called `expect_refusals()`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

from tests.slack_payload_rules import refusal

BOT_USER_ID, BOT_ID, TEAM_ID = "UBOT", "BBOT", "T0001"
JSON_FIELDS = ("blocks", "view", "attachments")


@dataclass
class Call:
    method: str  # "chat.postMessage", or the path for non-API URLs ("/response/abc")
    args: dict[str, Any]
    headers: dict[str, str]
    refused: str | None = None  # the error Slack answered when it refused this payload

    @property
    def text_of_blocks(self) -> str:
        """Every text string in the blocks (or view), joined: handy for `in` assertions."""
        return "\n".join(_texts(self.args.get("blocks") or (self.args.get("view") or {}).get("blocks") or []))


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["text"]] if isinstance(node.get("text"), str) else []
        return out + [t for v in node.values() if isinstance(v, dict | list) for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    rejected: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (method, error, problems)
    strict: bool = True  # stop() fails the test if Slack would have refused a payload
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _cond: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None
    socket_url: str = "ws://127.0.0.1:9/"  # what apps.connections.open hands out (Socket Mode)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.strict and self.rejected:
            raise AssertionError(f"Slack would have refused {len(self.rejected)} payload(s): {self.rejected[:3]}")

    def expect_refusals(self) -> None:
        """This test sends payloads Slack refuses on purpose: do not fail it for them at stop()."""
        self.strict = False

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    # -- configuring -----------------------------------------------------------------------

    def fail_once(self, method: str, *, status: int = 200, error: str | None = None, retry_after: int | None = None):
        self.failures.setdefault(method, []).append(Failure(status, error, retry_after))

    # -- assertions ------------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, count: int = 1, *, timeout: float = 20.0, where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        """Block until `count` matching calls were recorded (bounded), then return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method and (where is None or where(c))]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self.calls]
                    raise AssertionError(f"waited {timeout}s for {count} x {method}; recorded calls: {seen}")
                self._cond.wait(left)

    def reset(self) -> None:
        with self._cond:
            self.calls.clear()

    # -- the fake API ----------------------------------------------------------------------

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length).decode() if length else ""
        args = _parse(raw, req.headers.get("Content-Type", ""))
        path = req.path.split("?")[0]
        method = path[len("/api/") :] if path.startswith("/api/") else path
        refused = refusal(method, args)
        with self._cond:
            self.calls.append(Call(method, args, dict(req.headers.items()), refused[0] if refused else None))
            failure = self.failures.get(method, []).pop(0) if self.failures.get(method) else None
            if refused is not None:
                self.rejected.append((method, *refused))
            self._cond.notify_all()
        if refused is not None:
            error, problems = refused
            self._reply(req, 200, {"ok": False, "error": error, "response_metadata": {"messages": problems}})
            return
        if failure is not None:
            body: dict[str, Any] = {"ok": False, "error": failure.error or "ratelimited"}
            self._reply(req, failure.status, body, failure.retry_after)
            return
        self._reply(req, 200, self._answer(method, args))

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "team_id": TEAM_ID, "user": "siteline"}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"text": args.get("text")}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{str(args.get('users', 'X')).split(',')[0]}"}}
        if method in ("views.open", "views.publish"):
            return {"ok": True, "view": {"id": "V1", **(args.get("view") or {})}}
        return {"ok": True}

    @staticmethod
    def _reply(req: BaseHTTPRequestHandler, status: int, body: dict[str, Any], retry_after: int | None = None) -> None:
        data = json.dumps(body).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            req.send_header("Retry-After", str(retry_after))
        req.end_headers()
        req.wfile.write(data)


def _parse(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    data = json.loads(raw) if "json" in content_type else {k: v[0] for k, v in parse_qs(raw).items()}
    for key in JSON_FIELDS:
        if isinstance(data.get(key), str):
            data[key] = json.loads(data[key])
    return data


# -- signed requests into /slack/events -------------------------------------------------------


def sign(secret: str, body: str, timestamp: int) -> dict[str, str]:
    """Slack's v0 signature: HMAC-SHA256 over `v0:{timestamp}:{body}` with the signing secret."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


@dataclass
class SlackPayloads:
    """Builds the bodies Slack sends (events, interactivity, slash commands) and their signed headers."""

    secret: str
    fake: FakeSlack
    _n: itertools.count = field(default_factory=lambda: itertools.count(1))

    def headers(self, body: str, content_type: str, *, age_s: int = 0, retry: int | None = None) -> dict[str, str]:
        headers = {**sign(self.secret, body, int(time.time()) - age_s), "Content-Type": content_type}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return headers

    def event(self, event: dict[str, Any], *, event_id: str | None = None) -> str:
        n = next(self._n)
        return json.dumps(
            {
                "token": "legacy",
                "team_id": TEAM_ID,
                "api_app_id": "A0001",
                "type": "event_callback",
                "event_id": event_id or f"Ev{n:06d}",
                "event_time": 1700000000 + n,
                "event": event,
                "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
            }
        )

    def mention(self, user: str, channel: str, text: str, ts: str, thread_ts: str | None = None, **kw: Any) -> str:
        ev = {"type": "app_mention", "user": user, "channel": channel, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts}
        if thread_ts:
            ev["thread_ts"] = thread_ts
        return self.event(ev, **kw)

    def dm(self, user: str, text: str, ts: str, **kw: Any) -> str:
        ev = {"type": "message", "channel_type": "im", "user": user, "channel": f"D{user}", "text": text, "ts": ts}
        return self.event(ev, **kw)

    def interaction(self, payload: dict[str, Any]) -> str:
        base = {"team": {"id": TEAM_ID}, "api_app_id": "A0001", "trigger_id": f"trig{next(self._n)}"}
        return urlencode({"payload": json.dumps({**base, **payload})})

    def click(self, user: str, action_id: str, value: str, *, channel: str, message: dict[str, Any]) -> str:
        return self.interaction(
            {
                "type": "block_actions",
                "user": {"id": user},
                "response_url": self.fake.url(f"/response/{user}"),
                "container": {
                    "type": "message",
                    "message_ts": message["ts"],
                    "channel_id": channel,
                    "is_ephemeral": False,
                },
                "channel": {"id": channel},
                "message": message,
                "actions": [
                    {"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1"}
                ],
            }
        )

    def command(self, user: str, channel: str, text: str) -> str:
        return urlencode(
            {
                "command": "/siteline",
                "text": text,
                "user_id": user,
                "channel_id": channel,
                "team_id": TEAM_ID,
                "channel_name": "directmessage" if channel.startswith("D") else "site",
                "api_app_id": "A0001",
                "response_url": self.fake.url(f"/commands/{user}"),
                "trigger_id": f"trig{next(self._n)}",
            }
        )
