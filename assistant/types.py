"""What goes into and comes out of the assistant: platform-neutral, so Slack and Teams share one service.

The bot layer translates a platform payload into an `InboundMessage` and renders a `Reply`
back (Block Kit, Adaptive Cards); nothing here knows which platform it serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from knowledge.types import ALSO_IN_DOCUMENTS as ALSO_IN_DOCUMENTS  # re-exported for bot/
from knowledge.types import Answer, Citation

Platform = str  # a channel name from bot/channels.py ("slack", "teams", …): identities are data
ReplyStatus = Literal["answered", "not_found", "refused", "empty"]
FeedbackValue = Literal["helpful", "not_helpful"]


def command(words: str) -> str:
    """A command the reader can type, marked in an assistant message so each channel shows it in its own
    syntax (Slack: `/siteline digest`; Teams: **digest**); see `COMMAND` for reading it back."""
    return f"[[{words}]]"


COMMAND = re.compile(r"\[\[(.+?)\]\]")


@dataclass(frozen=True)
class ChatUser:
    """A platform identity as the bot sees it (resolved to a directory person by the assistant)."""

    platform: Platform
    user_id: str


@dataclass(frozen=True)
class InboundMessage:
    """One question as the platform delivered it (text not yet PHI-checked: never log it)."""

    platform: Platform
    user_id: str  # the platform's user id (Slack `U…`, Teams AAD object id)
    conversation_id: str  # Slack channel / Teams conversation the message was posted in
    is_direct: bool  # a 1:1 conversation with the bot
    text: str
    thread_ref: str | None = None  # where the answer belongs (Slack thread_ts; Teams reply-to id)
    event_id: str | None = None  # the platform's delivery id, for logs and dedupe


@dataclass(frozen=True)
class Reply:
    """What the bot should say; `text` is ready to show, refusals included."""

    status: ReplyStatus
    text: str
    citations: tuple[Citation, ...] = ()
    answer_id: int | None = None
    notice: str | None = None  # e.g. "identifiers were removed"; shown gently beside the answer
    studies: tuple[str, ...] = ()
    mode: str = ""
    can_ask_cra: bool = False

    @property
    def is_answer(self) -> bool:
        return self.status in ("answered", "not_found")


@dataclass(frozen=True)
class Outcome:
    """The result of a button or form action (feedback, hand-off, CRA answer): ok, and what to tell the user."""

    ok: bool
    message: str
    ref: int | None = None  # e.g. the open question's id
    deliveries: tuple[str, ...] = ()  # outbox keys queued by this action (the bot may send them at once)


@dataclass(frozen=True)
class OpenQuestion:
    """An Ask-my-CRA hand-off as listed for a CRA or the asker."""

    id: int
    site_id: str
    study: str
    asked_by: str
    question: str  # redacted
    bot_answer: str
    status: str  # open | answered | escalated
    created_at: datetime
    recipients: tuple[str, ...] = field(default_factory=tuple)
    answer_text: str | None = None
    answered_by: str | None = None


class Knowledge(Protocol):
    """The part of knowledge.service.KnowledgeService the assistant needs (a fake in unit tests)."""

    def ask(
        self,
        question: str,
        *,
        studies: list[str],
        asker: str,
        surface: str,
        now: datetime | None = None,
        phi_redacted: bool = False,
        record: bool = True,
        conversation_ref: dict[str, Any] | None = None,
    ) -> Answer: ...


class Redaction(Protocol):
    text: str
    changed: bool

    def notice(self) -> str: ...


class Guard(Protocol):
    """privacy.default_guard(): finds HIPAA Safe Harbor identifiers and replaces them."""

    def redact(self, text: str) -> Redaction: ...
