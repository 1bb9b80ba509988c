"""Acknowledge / Resolve on an escalation card, through the escalation engine's service functions.

The clicker is resolved in the directory by their Teams id; the engine checks they may act on
this site and study, records the journal and audit entries, and queues the updates to the site
and the people already reached (sent right after the click).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from assistant.scope import UNKNOWN_USER
from core.db import transaction
from core.directory import Directory
from escalation import service


@dataclass(frozen=True)
class EscalationClick:
    ok: bool
    message: str
    still_open: bool = False  # acknowledged but not resolved: Resolve stays on the card


def act(
    factory: sessionmaker[Session], *, user_key: str, escalation_id: str, resolve: bool, now: datetime
) -> EscalationClick:
    verb = "resolve" if resolve else "acknowledge"
    try:
        with transaction(factory) as session:
            directory = Directory(session)
            person = directory.person_by_teams(user_key)
            if person is None:
                return EscalationClick(False, UNKNOWN_USER)
            if resolve:
                esc = service.resolve(session, escalation_id=escalation_id, by=person.person_id, now=now)
                if esc.resolved_by != person.person_id:
                    return EscalationClick(True, f"Escalation {escalation_id} was already resolved.")
                return EscalationClick(
                    True, f"Resolved by you. The site and everyone already reached have been told ({escalation_id})."
                )
            esc = service.ack(session, escalation_id=escalation_id, by=person.person_id, now=now)
            if esc.acked_by != person.person_id:
                other = directory.person(esc.acked_by or "")
                who = (other.name or other.person_id) if other else (esc.acked_by or "someone else")
                return EscalationClick(True, f"{who} already acknowledged escalation {escalation_id}.", True)
            return EscalationClick(
                True,
                f"Acknowledged by you. It will not go further up, and the site has been told ({escalation_id}).",
                True,
            )
    except service.Forbidden:
        return EscalationClick(
            False, f"You can't {verb} escalation {escalation_id}: it belongs to a site or study you don't cover."
        )
    except service.NotFound:
        return EscalationClick(False, f"I can't find escalation {escalation_id} any more.")
    except service.Conflict:
        return EscalationClick(False, f"Escalation {escalation_id} is already resolved: nothing left to {verb}.")
