"""Slack delivery of outbox messages, saying whether a failure is worth retrying.

A 429 becomes `SendResult.retry(..., retry_after)` (the outbox waits Retry-After instead of
blocking the ticker); Slack's transient errors are retried with backoff; errors that will not
fix themselves (channel gone, bot not invited, bad token) fail at once with Slack's reason.
Names and deadlines come looked up for the reader (`assistant/outbound.py`); a site's escalation
updates go into that escalation's thread (`threads.py`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.outbound import Address
from bot.slack.threads import SiteThreads
from bot.slack.update_blocks import render_parts
from core.notify import PARTS_SENT, RECORD_ONLY_KINDS, OutboundMessage, SendResult

if TYPE_CHECKING:
    from siteline.container import Container

log = logging.getLogger("siteline.bot.slack")

RECOVERABLE = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
# The token itself is wrong, revoked or lacks a scope: no message can go until the app is fixed,
# so deliveries are held (`blocked`), never failed for good.
MISCONFIGURED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope",
     "not_allowed_token_type", "team_access_not_granted"}
)  # fmt: skip


def _retry_after(err: SlackApiError) -> float | None:
    value = err.response.headers.get("Retry-After") or err.response.headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class SlackSender:
    """Posts one outbox message; the WebClient it is given must not sleep on 429 (the outbox waits)."""

    platform = "slack"

    def __init__(self, client: WebClient, threads: SiteThreads | None = None) -> None:
        self.client = client
        self.threads = threads

    def send_to(self, address: Address, message: OutboundMessage) -> SendResult:
        """Post the message (a long digest as several, in order, resuming after the parts already out)."""
        if message.kind in RECORD_ONLY_KINDS:
            return SendResult.sent()
        payload = message.payload
        parts = render_parts(message.kind, payload)
        done = int(message.payload.get(PARTS_SENT) or 0)
        refs: list[str] = []
        try:
            channel = address.conversation_id or self._open_dm(address.user_id or "")
            thread = address.thread_ref
            if thread is None and self.threads is not None:
                thread = self.threads.thread_for(message, channel)
            for n, (text, blocks) in enumerate(parts):
                if n < done:
                    continue
                try:
                    resp = self.client.chat_postMessage(
                        channel=channel, text=text, blocks=blocks, thread_ts=thread, unfurl_links=False
                    )
                except (SlackApiError, OSError):
                    done = n
                    raise
                refs.append(f"{resp.get('channel', channel)}:{resp.get('ts', '')}")
        except SlackApiError as err:
            return replace(self._classify(err, message), parts_sent=done or None)
        except OSError as err:  # connection refused, timeout, DNS: Slack unreachable for now
            log.warning("slack delivery %s: %s", message.delivery_id, type(err).__name__)
            return SendResult(ok=False, recoverable=True, error=f"slack unreachable ({type(err).__name__})",
                              parts_sent=done or None)  # fmt: skip
        if self.threads is not None:
            self.threads.after_send(message, payload)
        return SendResult.sent(external_ref=refs[0] if refs else None)

    def _open_dm(self, user_id: str) -> str:
        resp = self.client.conversations_open(users=user_id)
        return str(resp["channel"]["id"])

    def _classify(self, err: SlackApiError, message: OutboundMessage) -> SendResult:
        status = err.response.status_code
        code = str(err.response.get("error") or f"http {status}")
        log.warning("slack delivery %s (%s) failed: %s", message.delivery_id, message.kind, code)
        if status == 429:
            return SendResult.retry(f"slack rate limit ({code})", _retry_after(err))
        if code in MISCONFIGURED:
            return SendResult.misconfigured(f"slack refused the bot token ({code}): check SLACK_BOT_TOKEN")
        if status >= 500 or code in RECOVERABLE:
            return SendResult.retry(f"slack error {code}")
        return SendResult.failed(f"slack refused: {code}")


def sender(container: Container) -> SlackSender | None:
    """The Slack half of the Notifier, or None when Slack is not configured."""
    settings = container.settings
    if not settings.slack_bot_token:
        return None
    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, timeout=15)
    now = container.clock.now
    return SlackSender(client, SiteThreads(container.factory, client, now))
