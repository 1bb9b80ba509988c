"""One thread per escalation in the site's channel: a root "Escalation raised: …" message, and
every step below it (path, level notified, handed on, acknowledged, resolved).

The site's `escalation_update` rows are platform-neutral and carry no thread; the sender asks
here where each one goes. The first one for an escalation posts the root (from the escalation
as stored, whichever surface raised it: Slack, the API, the CLI, an unanswered question) and
records its ts; later ones reply in that thread and refresh the root's status line. When a
person's notice goes out, the thread gets a short "level N notified" step (a courtesy note: if
Slack refuses it, the notice itself still counts as sent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.slack.escalation_blocks import notified_line, root_blocks, status_note
from bot.slack.failures import quietly
from bot.slack.models import SlackThreadRow
from core.db import transaction
from core.directory import Directory
from core.notify import OutboundMessage
from escalation import service as escalations

log = logging.getLogger("siteline.bot.slack")
ROOT_REFRESH = {"acknowledged", "resolved", "halted", "handed_on"}


def escalation_id(message: OutboundMessage) -> str | None:
    esc = message.payload.get("escalation")
    return str(esc["id"]) if isinstance(esc, Mapping) and esc.get("id") else None


class SiteThreads:
    def __init__(self, factory: sessionmaker[Session], client: WebClient, now: Callable[[], datetime]) -> None:
        self.factory = factory
        self.client = client
        self.now = now

    # -- storage ---------------------------------------------------------------------------

    def find(self, esc_id: str) -> tuple[str, str] | None:
        with transaction(self.factory) as session:
            row = session.get(SlackThreadRow, esc_id)
            return (row.channel_id, row.thread_ts) if row else None

    def remember(self, esc_id: str, channel: str, ts: str) -> None:
        """Store (or move, if the site changed channel) an escalation's thread."""
        try:
            with transaction(self.factory) as session:
                row = session.get(SlackThreadRow, esc_id)
                if row is None:
                    session.add(
                        SlackThreadRow(escalation_id=esc_id, channel_id=channel, thread_ts=ts, created_at=self.now())
                    )
                else:
                    row.channel_id, row.thread_ts = channel, ts
        except IntegrityError:  # another worker posted a root at the same moment; theirs is kept
            log.info("slack: escalation %s got two root messages at once; keeping the first", esc_id)

    # -- the sender's hooks ----------------------------------------------------------------

    def thread_for(self, message: OutboundMessage, channel: str) -> str | None:
        """The thread ts a site's escalation update belongs in, posting the root first if needed."""
        esc_id = escalation_id(message)
        if message.kind != "escalation_update" or message.channel != "site" or esc_id is None:
            return None
        known = self.find(esc_id)
        if known and known[0] == channel:
            return known[1]
        try:
            text, blocks = self._root(esc_id)
        except escalations.NotFound:  # not in this database (e.g. sent from elsewhere): post unthreaded
            return None
        resp = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
        ts = str(resp["ts"])
        self.remember(esc_id, channel, ts)
        return ts

    def after_send(self, message: OutboundMessage, payload: Mapping[str, Any]) -> None:
        """Courtesy steps after a send: the root's status line, or "level N notified" in the thread.
        The message itself has gone out, so nothing here may fail the send (that would repeat it)."""
        try:
            self._after_send(message, payload)
        except Exception as exc:
            log.warning("slack delivery %s: thread step skipped (%s)", message.delivery_id, type(exc).__name__)

    def _after_send(self, message: OutboundMessage, payload: Mapping[str, Any]) -> None:
        esc_id = escalation_id(message)
        if esc_id is None:
            return
        if message.kind == "escalation_update" and message.channel == "site":
            status = str((message.payload.get("escalation") or {}).get("status", ""))
            if status in ROOT_REFRESH:
                quietly("chat.update (escalation root)", lambda: self._refresh_root(esc_id))
        elif message.kind == "escalation" and message.channel == "person":
            known = self.find(esc_id)
            if known:
                name = str(payload.get("reader_name") or message.recipient)
                quietly(
                    "chat.postMessage (level notified)",
                    lambda: self.client.chat_postMessage(
                        channel=known[0], thread_ts=known[1], text=notified_line(payload, name)
                    ),
                )

    # -- internals -------------------------------------------------------------------------

    def _root(self, esc_id: str) -> tuple[str, list[dict[str, Any]]]:
        with transaction(self.factory) as session:
            view = escalations.to_view(escalations.get(session, esc_id), self.now())
            names = _names(session, view)
        return root_blocks(view, names.get(view["raised_by"], view["raised_by"]), status_note(view, names))

    def _refresh_root(self, esc_id: str) -> None:
        known = self.find(esc_id)
        if known is None:
            return
        text, blocks = self._root(esc_id)
        self.client.chat_update(channel=known[0], ts=known[1], text=text, blocks=blocks)


def _names(session: Session, view: Mapping[str, Any]) -> dict[str, str]:
    directory = Directory(session)
    names: dict[str, str] = {}
    for key in ("raised_by", "acked_by", "resolved_by"):
        pid = view.get(key)
        if pid and pid not in names:
            person = directory.person(str(pid))
            names[str(pid)] = (person.name or person.person_id) if person else str(pid)
    return names
