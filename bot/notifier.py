"""The Notifier the engines send through: one per process, routing each message to a chat platform.

Engines address a site or a person; the directory says where they are reachable (Slack
channel / user, Teams conversation / user). A reply into an existing conversation (a CRA's
answer) carries its own address. Each platform adds itself by offering `sender(container)`
in its module (see `SENDER_MODULES`); a platform that is not configured offers None.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.directory import Directory
from core.notify import NO_PLATFORM, RECORD_ONLY_KINDS, Notifier, OutboundMessage, SendResult

if TYPE_CHECKING:
    from siteline.container import Container

log = logging.getLogger("siteline.bot.notifier")

SENDER_MODULES = ("bot.slack.sender", "bot.teams.sender")


@dataclass(frozen=True)
class Address:
    """Where on one platform: a conversation (optionally a thread in it) or a user to DM."""

    platform: str
    conversation_id: str | None = None
    user_id: str | None = None
    thread_ref: str | None = None


class PlatformSender(Protocol):
    platform: str

    def send_to(self, address: Address, message: OutboundMessage) -> SendResult: ...


class RoutingNotifier:
    """Finds the recipient's platform address and hands the message to that platform's sender."""

    def __init__(self, factory: sessionmaker[Session], senders: dict[str, PlatformSender]) -> None:
        self.factory = factory
        self.senders = senders

    def send(self, message: OutboundMessage) -> SendResult:
        if message.kind in RECORD_ONLY_KINDS:
            return SendResult.sent()  # a record of a decision, never posted: acknowledged on every path
        if not self.senders:
            return SendResult.misconfigured(NO_PLATFORM)  # held in the outbox, never dropped
        address = self.address(message)
        if address is None:
            return SendResult.failed(
                f"{message.channel} {message.recipient} has no chat address on "
                f"{', '.join(self.senders) or 'any configured platform'}"
            )
        return self.senders[address.platform].send_to(address, message)

    def address(self, message: OutboundMessage) -> Address | None:
        conv = message.payload.get("conversation")
        if isinstance(conv, dict) and conv.get("platform") in self.senders and conv.get("conversation_id"):
            return Address(conv["platform"], conversation_id=conv["conversation_id"], thread_ref=conv.get("thread_ref"))
        with transaction(self.factory) as session:
            directory = Directory(session)
            if message.channel == "site":
                site = directory.site(message.recipient)
                if site is None:
                    return None
                options = {"slack": site.slack_channel_id, "teams": site.teams_conversation_id}
                return next(
                    (Address(p, conversation_id=v) for p, v in options.items() if v and p in self.senders), None
                )
            person = directory.person(message.recipient)
            if person is None:
                return None
            options = {"slack": person.slack_user_id, "teams": person.teams_user_id}
            return next((Address(p, user_id=v) for p, v in options.items() if v and p in self.senders), None)


def build_notifier(container: Container) -> Notifier:
    """Every configured platform's sender behind one router (no platform configured: every send is
    held as `blocked` with a message saying so, and goes out once a platform is configured)."""
    senders: dict[str, PlatformSender] = {}
    for name in SENDER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not exc.name or not (name == exc.name or name.startswith(exc.name + ".")):
                raise  # a broken platform module, not an absent one
            continue
        sender = module.sender(container)
        if sender is not None:
            senders[sender.platform] = sender
    return RoutingNotifier(container.factory, senders)
