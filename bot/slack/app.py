"""The bolt App, built from Settings: identity, gates, listeners.

- The token goes to the per-request WebClient through `authorize` (base URL = SLACK_API_URL, so
  tests point it at a fake); request verification stays on (signature + 5-minute timestamp).
- `authorize` learns the bot's identity with one `auth.test`, cached; if that call fails the
  request still goes on (our own gate ignores bot messages), so an auth hiccup is not silence.
- Gates, in order: ignore bots' and edited messages; drop deliveries already handled (retries,
  also after a restart, by event_id in SQL).
- `process_before_response=False`: Slack gets its 200 in milliseconds while the listener runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.slack import actions, commands, digest_prefs, escalate, escalation_actions, events, notify
from bot.slack.events import is_user_message
from bot.slack.logs import bolt_logger
from bot.slack.runtime import SlackRuntime
from core.settings import Settings

log = logging.getLogger("siteline.bot.slack")


AUTH_RETRY_S = 60.0  # after a failed auth.test, requests go on without asking again for this long


def bot_identity(settings: Settings, clock: Callable[[], float] = time.monotonic) -> Callable[..., AuthorizeResult]:
    """bolt's `authorize`: the bot token plus its user/bot ids (one auth.test, remembered). A failed auth.test
    is not tried again for AUTH_RETRY_S: while Slack's API was unreachable every request waited ~1 s for it in
    turn (the lock), and 20 events at once took 22 s to acknowledge."""
    assert settings.slack_bot_token is not None
    token = settings.slack_bot_token.get_secret_value()
    known: dict[str, Any] = {}
    lock = threading.Lock()
    next_try = [0.0]

    def authorize(enterprise_id: str | None, team_id: str | None, client: WebClient) -> AuthorizeResult:
        with lock:
            if not known and clock() >= next_try[0]:
                try:
                    resp = client.auth_test(token=token)
                    known.update(bot_user_id=resp.get("user_id"), bot_id=resp.get("bot_id"))
                except (SlackApiError, OSError) as exc:
                    next_try[0] = clock() + AUTH_RETRY_S
                    log.warning("slack auth.test failed (%s); continuing without the bot's ids", type(exc).__name__)
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=token,
            bot_user_id=known.get("bot_user_id"),
            bot_id=known.get("bot_id"),
        )

    return authorize


def ignore_bot_messages(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
    """Bots (ourselves included), edits and joins never get an answer; Slack still gets its 200."""
    event = body.get("event") or {}
    if body.get("type") == "event_callback" and event.get("type") == "message" and not is_user_message(event):
        return BoltResponse(status=200, body="")
    next()
    return None


def drop_handled_retries(rt: SlackRuntime) -> Callable[..., BoltResponse | None]:
    """Slack redelivers after ~1 and ~5 minutes (`X-Slack-Retry-Num`); the first claim of an event_id wins."""

    def gate(body: dict[str, Any], request: BoltRequest, next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not rt.assistant.claim_event("slack", str(event_id), rt.now()):
            retry = (request.headers.get("x-slack-retry-num") or ["-"])[0]
            log.info("slack event %s already handled (retry %s): acknowledged, not answered again", event_id, retry)
            return BoltResponse(status=200, body="")
        next()
        return None

    return gate


def build_app(rt: SlackRuntime, settings: Settings) -> App:
    """A bolt App for `settings` (Slack must be enabled: bot token and signing secret set)."""
    assert settings.slack_signing_secret is not None
    client = WebClient(
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    app = App(
        name="siteline",
        logger=bolt_logger(),
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        authorize=bot_identity(settings),
        process_before_response=False,
        request_verification_enabled=True,
        listener_executor=ThreadPoolExecutor(max_workers=8, thread_name_prefix="slack-listener"),
    )
    app.use(ignore_bot_messages)
    app.use(drop_handled_retries(rt))
    events.register(app, rt)
    commands.register(app, rt)
    actions.register(app, rt)
    notify.register(app, rt)
    digest_prefs.register(app, rt)
    escalate.register(app, rt)
    escalation_actions.register(app, rt)
    return app
