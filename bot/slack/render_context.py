"""What a Slack message needs beyond the engine's payload: names and zones from the directory,
and an escalation's acknowledgement deadline, looked up when the message is sent.

The engines write platform-neutral payloads at decision time; a digest does not carry its site's
name, and a notice waiting for working hours cannot know the deadline text in its reader's zone
until it goes out. Looking these up at send time keeps the renderers pure and the payloads lean.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.directory import Directory
from core.notify import OutboundMessage
from escalation import service as escalations

log = logging.getLogger("siteline.bot.slack")


class RenderContext:
    def __init__(self, factory: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self.factory = factory
        self.now = now

    def enrich(self, message: OutboundMessage) -> dict[str, Any]:
        """The payload plus `site_name`/`site_tz` (site messages) or `reader_name`/`reader_tz` and
        `ack_by` (escalation notices). A failed lookup only costs the extra wording."""
        payload = dict(message.payload)
        try:
            with transaction(self.factory) as session:
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
                    payload["ack_by"] = self._ack_by(session, payload)
        except Exception as exc:  # the message still goes out, with the engine's own wording
            log.warning("slack delivery %s: context lookup failed (%s)", message.delivery_id, type(exc).__name__)
        return payload

    def _ack_by(self, session: Session, payload: Mapping[str, Any]) -> str | None:
        """The instant this recipient's level hands on, if it is still theirs to acknowledge."""
        esc = payload.get("escalation") or {}
        try:
            row = escalations.get(session, str(esc.get("id")))
        except escalations.NotFound:
            return None
        view = escalations.to_view(row, self.now())
        level, current = int(esc.get("level") or 0), int(view["level"] or 0)
        # Levels told together (critical) share the clock of the highest of them.
        through = int((row.snapshot or {}).get("notify_through_level") or 1)
        if view.get("hands_on_at") and (level == current or (level <= through and current == through)):
            return str(view["hands_on_at"])
        return None
