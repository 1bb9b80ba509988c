"""Put the Slack bot on `siteline serve`: `POST /slack/events` (HTTP mode), and Socket Mode when
`SLACK_APP_TOKEN` is set (for workspaces without a public URL). Off unless Slack is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request import BoltRequest
from starlette.concurrency import run_in_threadpool

from bot.http_body import BodyTooLarge, read_capped
from bot.slack import payload_shape
from bot.slack.app import build_app
from bot.slack.failures import describe
from bot.slack.logs import quiet_sdk
from bot.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from siteline.container import Container

log = logging.getLogger("siteline.bot.slack")
MAX_AGE_S = 5 * 60  # Slack's replay window


def mount(app: FastAPI, container: Container) -> None:
    settings = container.settings
    if not settings.slack_enabled:
        return
    quiet_sdk()
    bolt = build_app(SlackRuntime(container), settings)
    app.state.slack_app = bolt
    app.state.on_start.append(lambda: warm_up(container))
    assert settings.slack_signing_secret is not None  # slack_enabled
    secret = settings.slack_signing_secret.get_secret_value().encode()

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        """Events, interactivity and slash commands: a capped read, the signature and timestamp
        checked on the raw bytes, and only then parsing (a bad body from Slack itself is 400)."""
        try:
            body = await read_capped(request)
        except BodyTooLarge:
            return Response(status_code=413, content="payload too large")
        if not signed(secret, body, request.headers, now=time.time()):
            log.warning(
                "slack: refused a request with an invalid or stale signature (from %s)",
                request.client and request.client.host,
            )
            return Response(status_code=401, content="invalid or stale signature")
        bolt_request = parsed(request, body)
        if bolt_request is None:
            log.warning("slack: a signed request whose body is not a Slack payload (%d bytes)", len(body))
            return Response(status_code=400, content="the body is not a Slack payload")
        return to_starlette_response(await run_in_threadpool(bolt.dispatch, bolt_request))

    if settings.slack_app_token:
        token = settings.slack_app_token.get_secret_value()
        app.state.on_start.append(lambda: start_socket_mode(bolt, token))
    log.info("slack: events at POST /slack/events%s", " and Socket Mode" if settings.slack_app_token else "")


def signed(secret: bytes, body: bytes, headers: Mapping[str, str], *, now: float) -> bool:
    """Slack's v0 signature (HMAC-SHA256 of `v0:{timestamp}:{body}`), checked on the raw bytes, with a
    timestamp of whole seconds inside the replay window. slack_sdk's SignatureVerifier parses the timestamp
    with int() and decodes the body as UTF-8 first: a timestamp "abc" or a body that is not UTF-8, which anyone
    can send without the secret, raised inside it (a 500)."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    if abs(now - int(timestamp)) > MAX_AGE_S:
        return False
    digest = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace"))


def parsed(request: Request, body: bytes) -> BoltRequest | None:
    """The request as bolt sees it, or None when the body does not parse or its structure is not
    what Slack sends (bot/slack/payload_shape.py): bolt would fail on those deep inside its dispatch."""
    try:
        bolt_request = to_bolt_request(request, body)
    except (ValueError, TypeError, AttributeError, KeyError, RecursionError):  # JSON, UTF-8: ValueErrors
        return None
    return None if payload_shape.problem(bolt_request.body) else bolt_request


def warm_up(container: Container) -> None:
    """Load the PHI guard and the knowledge engine in the background at start, so the first question
    is not the one that waits for them (Slack has already had its 200 either way)."""

    def load() -> None:
        try:
            _ = container.assistant.guard, container.assistant.knowledge
        except Exception as exc:  # the first question will try again and apologize if it still fails
            log.warning("slack: warm-up failed (%s)", describe(exc))

    threading.Thread(target=load, name="slack-warm-up", daemon=True).start()


def start_socket_mode(bolt: App, app_token: str) -> Callable[[], None]:
    """Connect over WebSocket (no public URL needed); returns the function that disconnects."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    handler = SocketModeHandler(bolt, app_token=app_token)
    try:
        handler.connect()
        log.info("slack: Socket Mode connected")
    except Exception as exc:  # HTTP mode keeps working; the client reconnects on its own once it had a session
        log.error("slack: Socket Mode could not connect (%s); check SLACK_APP_TOKEN", describe(exc))
    return handler.close
