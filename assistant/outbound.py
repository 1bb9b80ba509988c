"""The one Notifier every process sends through: find where a recipient is reachable, add what the
reader needs, and hand the message to that channel's sender.

Engines address a site or a person; the directory says where they are reachable. A reply into an
existing conversation (a CRA's answer) carries its own address. What a message needs beyond the
engine's payload is looked up here, once, for every channel: the site's or reader's name and time
zone, and an escalation's acknowledgement deadline, which a notice waiting for working hours cannot
know until it goes out. Channel senders (`bot/<channel>/sender.py`) only render and send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from core.clock import parse_instant
from core.db import transaction
from core.directory import Directory
from core.notify import NO_PLATFORM, RECORD_ONLY_KINDS, OutboundMessage, SendResult
from escalation import service as escalations
from escalation.messages import local, role_label

log = logging.getLogger("siteline.outbound")

EMAIL = "email"  # the last resort (bot/email): never chosen over a chat address that works
SITE_EMAIL_KINDS = frozenset({"immediate"})  # what a site with no chat gets by e-mail, to its staff


@dataclass(frozen=True)
class Address:
    """Where on one channel: a conversation (optionally a thread in it) or a user to write to."""

    platform: str
    conversation_id: str | None = None
    user_id: str | None = None
    thread_ref: str | None = None


class ChannelSender(Protocol):
    platform: str

    def send_to(self, address: Address, message: OutboundMessage) -> SendResult: ...


class RoutingNotifier:
    """Finds the recipient's address on a configured channel, enriches the payload, and sends."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        senders: Mapping[str, ChannelSender],
        now: Callable[[], datetime],
    ) -> None:
        self.factory = factory
        self.senders = dict(senders)
        self.now = now

    def send(self, message: OutboundMessage) -> SendResult:
        if message.kind in RECORD_ONLY_KINDS:
            return SendResult.sent()  # a record of a decision, never posted: acknowledged on every path
        if not self.senders:
            return SendResult.misconfigured(NO_PLATFORM)  # held in the outbox, never dropped
        address = self.address(message)
        if address is None:
            chats = [p for p in self.senders if p != EMAIL]
            nowhere = (
                SendResult.failed(f"{message.channel} {message.recipient} has no chat address on {', '.join(chats)}")
                if chats
                else SendResult.misconfigured(NO_PLATFORM)
            )
            return self.last_resort(message, nowhere, refused=False)
        enriched = replace(message, payload=enrich(self.factory, message, self.now()))
        result = self.senders[address.platform].send_to(address, enriched)
        if result.ok or result.recoverable or address.platform == EMAIL:
            return result  # a retry or a held platform waits for chat: e-mail only replaces a refusal
        return self.last_resort(enriched, result, refused=True)

    def last_resort(self, message: OutboundMessage, otherwise: SendResult, *, refused: bool) -> SendResult:
        """E-mail, when chat cannot carry the message at all (no address, or a permanent refusal) and
        the recipient has an e-mail address; otherwise chat's own outcome (`otherwise`). `message` is
        as chat got it after a refusal (enriched), as queued when chat had no address."""
        email = self.senders.get(EMAIL)
        address = self.email_address(message) if email is not None else None
        if email is None or address is None:
            return otherwise
        if not refused:
            message = replace(message, payload=enrich(self.factory, message, self.now()))
        result = email.send_to(address, message)
        if result.ok:
            level = logging.WARNING if refused else logging.INFO
            log.log(level, "delivery %s: sent by e-mail instead (%s)", message.delivery_id, otherwise.error)
            return result
        return replace(result, error=f"{otherwise.error}; e-mail: {result.error}"[:2000])

    def email_address(self, message: OutboundMessage) -> Address | None:
        """A person's `email`; for an urgent update to a site, its staff's (those on the update's study)."""
        with transaction(self.factory) as session:
            directory = Directory(session)
            if message.channel == "person":
                person = directory.person(message.recipient)
                return Address(EMAIL, user_id=person.email) if person and person.email else None
            if message.kind not in SITE_EMAIL_KINDS or not message.payload.get("study"):
                return None
            staff = directory.recipients("site_staff", site=message.recipient, study=str(message.payload["study"]))
            emails = sorted({p.email for p in staff if p.email})
            return Address(EMAIL, conversation_id=",".join(emails)) if emails else None

    def address(self, message: OutboundMessage) -> Address | None:
        conv = message.payload.get("conversation")
        if isinstance(conv, dict) and conv.get("platform") in self.senders and conv.get("conversation_id"):
            return Address(conv["platform"], conversation_id=conv["conversation_id"], thread_ref=conv.get("thread_ref"))
        with transaction(self.factory) as session:
            # The recipient's identities, tried in the senders' order (none: no address on any platform).
            if message.channel == "site":
                options = Directory(session).identities_of("site", message.recipient)
                return next((Address(p, conversation_id=options[p]) for p in self.senders if p in options), None)
            options = Directory(session).identities_of("person", message.recipient)
            return next((Address(p, user_id=options[p]) for p in self.senders if p in options), None)


def enrich(factory: sessionmaker[Session], message: OutboundMessage, now: datetime) -> dict[str, Any]:
    """The payload plus `site_name`/`site_tz` (site messages) or `reader_name`/`reader_tz` and `ack_by`
    (escalation notices). A failed lookup only costs the extra wording: the message still goes out."""
    payload = dict(message.payload)
    try:
        with transaction(factory) as session:
            directory = Directory(session)
            if message.channel == "site":
                site = directory.site(message.recipient)
                if site is not None:
                    payload.setdefault("site", site.site_id)
                    payload.setdefault("site_name", site.name or site.site_id)
                    payload["site_tz"] = site.tz
            else:
                person = directory.person(message.recipient)
                if person is not None:
                    payload["reader_name"] = person.name or person.person_id
                    payload["reader_tz"] = person.tz
            if message.kind == "escalation":
                esc = payload.get("escalation") or {}
                esc_id, level = str(esc.get("id")), int(esc.get("level") or 0)
                payload["ack_by"] = escalations.ack_by(session, esc_id, level, now)
                payload["ladder"] = escalations.ladder_so_far(session, esc_id, now)
                payload["deadline_text"] = deadline_text(payload)
    except Exception as exc:  # wording only: the message must not be lost over it
        log.warning("delivery %s: context lookup failed (%s)", message.delivery_id, type(exc).__name__)
    return payload


def deadline_text(payload: Mapping[str, Any]) -> str:
    """What a ladder notice asks of its reader, in their zone: "Please acknowledge by Mon 2 Mar 21:00
    (UTC) (within 4 h), or it goes to the study manager." The same sentence on every channel."""
    if not payload.get("ack_within_text"):
        return "You are the last level of this escalation: please take it on."
    nxt = payload.get("hands_on_to")
    then = f", or it goes to the {role_label(str(nxt))}" if nxt else ""
    tz = str(payload.get("reader_tz") or "UTC")
    if payload.get("ack_by"):
        by = f"{local(parse_instant(str(payload['ack_by'])), tz)} ({tz})"
        return f"Please acknowledge by {by} (within {payload['ack_within_text']}){then}."
    return f"Please acknowledge within {payload['ack_within_text']}{then}."
