"""The Notifier port: how engines hand a message to a chat platform without importing it.

Adapters in `bot/` implement `Notifier`; the replay uses a recorder. A send says whether a
failure is worth retrying (`recoverable`) and how long to wait (`retry_after`, e.g. Slack 429).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger("siteline.notify")

# Kinds that are records of a decision, not messages: adapters acknowledge them without posting
# (triage's `suppressed`: a repeat recorded for the audit, never shown to the site again).
RECORD_ONLY_KINDS = frozenset({"suppressed"})
# A message the platform gets in several parts (a long digest): how many parts went out already,
# kept in the row's payload by the outbox so a retry resumes after them instead of repeating them.
PARTS_SENT = "parts_sent"


class NotifierStopped(Exception):
    """Raised by a Notifier that cannot go on at all (e.g. the replay's output stream closed): the
    delivery loop stops and lets it propagate, instead of retrying every row into the void."""


@dataclass(frozen=True)
class OutboundMessage:
    """A platform-neutral message: who gets it and what it says; adapters render it."""

    delivery_id: int
    channel: str  # "site" | "person"
    recipient: str  # site_id or person_id
    kind: str  # immediate | digest | escalation | escalation_update | answer | ...
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    recoverable: bool = False
    retry_after: float | None = None
    error: str = ""
    external_ref: str | None = None
    # The platform cannot be used at all (none configured, a wrong or revoked token): nothing is wrong
    # with this message, so the outbox holds it as `blocked`, uncounted, until the platform works.
    blocked: bool = False
    parts_sent: int | None = None  # a multi-part send that stopped: how many parts are out (see PARTS_SENT)

    @classmethod
    def sent(cls, external_ref: str | None = None) -> SendResult:
        return cls(ok=True, external_ref=external_ref)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None) -> SendResult:
        return cls(ok=False, recoverable=True, retry_after=retry_after, error=error)

    @classmethod
    def failed(cls, error: str) -> SendResult:
        return cls(ok=False, recoverable=False, error=error)

    @classmethod
    def misconfigured(cls, error: str) -> SendResult:
        """No usable platform (unset, mistyped or revoked credentials): hold the row, never drop it."""
        return cls(ok=False, recoverable=True, error=error, blocked=True)


class Notifier(Protocol):
    def send(self, message: OutboundMessage) -> SendResult: ...


class RecordingNotifier:
    """Keeps every message it is given; used by replay and tests."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult.sent()


NO_PLATFORM = (
    "no chat platform is configured (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, or the TEAMS_* "
    "credentials; or SITELINE_DELIVERY_DRY_RUN=true to log and drop deliveries)"
)


class UnconfiguredNotifier:
    """The live notifier while no chat platform is configured: every send is held (`blocked`) in the
    outbox, visible in `siteline stats`, and goes out once a platform is configured."""

    def send(self, message: OutboundMessage) -> SendResult:
        if message.kind in RECORD_ONLY_KINDS:
            return SendResult.sent()
        return SendResult.misconfigured(NO_PLATFORM)


class LoggingNotifier:
    """The dry run (`SITELINE_DELIVERY_DRY_RUN=true`, never by default): logs who would get what and
    marks it sent (ids only, never message text, which may hold study details)."""

    def send(self, message: OutboundMessage) -> SendResult:
        items = [i.get("id") for i in message.payload.get("items", []) if isinstance(i, dict)]
        log.info(
            "delivery %s: %s to %s %s items=%s",
            message.delivery_id,
            message.kind,
            message.channel,
            message.recipient,
            items,
        )
        return SendResult.sent(external_ref=f"log:{message.delivery_id}")
