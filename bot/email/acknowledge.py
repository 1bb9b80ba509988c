"""What an acknowledge link does: show what it would acknowledge (GET, changes nothing, because mail
scanners open links) and acknowledge it once, as the person it was issued to (POST).

The acknowledgement goes through the assistant's escalation desk exactly as a chat button does
(`act_as`, the engine's one rule on who may); the link is spent, and `escalation.ack_link` (with its
outcome) written to the audit trail, in the transaction that holds the link's lock. Every refusal
is an outcome with an HTTP status and a sentence for the reader, never an exception; the token
itself is never stored, logged or audited.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from assistant.escalations import Acted
from bot.email import links
from bot.email.models import AckLinkRow
from core import audit
from core.db import transaction
from core.directory import Directory
from escalation.engine import OPEN
from escalation.messages import category_text, local, person_label
from escalation.models import EscalationRow

log = logging.getLogger("siteline.bot.email")

TRY_AGAIN = "Siteline could not record it just now. Please press the button again in a minute."
REFUSALS = {
    "unknown": (404, "This link is not valid", "This acknowledge link is not one Siteline sent, or it was mistyped."),
    "used": (410, "This link was already used", "This acknowledge link was already used; it works only once."),
    "expired": (
        410,
        "This link has expired",
        "This acknowledge link has expired (the escalation has moved on). Acknowledge it in chat, or ask the "
        "person it went to next.",
    ),
}


@dataclass(frozen=True)
class Outcome:
    """An answer to show: HTTP status, a title, sentences, the facts and whether to offer the button."""

    status: int
    outcome: str
    title: str
    message: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    confirm: bool = False
    escalation_id: str = ""
    deliveries: tuple[str, ...] = ()  # outbox rows the acknowledgement queued, to send at once


def facts_of(session: Session, esc: EscalationRow, link: AckLinkRow) -> list[tuple[str, str]]:
    """Id, site, study, category, severity, level: what the escalation is, without its summary (no PHI)."""
    directory = Directory(session)
    site = directory.site(esc.site)
    person = directory.person(link.person_id)
    return [
        ("Escalation", esc.id),
        ("Site", f"{site.name} ({esc.site})" if site and site.name else esc.site),
        ("Study", esc.study),
        ("Category", category_text(esc.category)),
        ("Severity", esc.severity),
        ("Level", f"{link.level} (sent to {person_label(person, link.person_id)})"),
    ]


def _closed(session: Session, esc: EscalationRow, tz: str) -> str:
    who = esc.acked_by if esc.status == "acknowledged" else esc.resolved_by
    when = esc.acked_at if esc.status == "acknowledged" else esc.resolved_at
    name = person_label(Directory(session).person(who or ""), who or "someone")
    at = f" on {local(when, tz)} ({tz})" if when else ""
    return f"Escalation {esc.id} was already {esc.status} by {name}{at}. Nothing more to do here."


def _used(session: Session, link: AckLinkRow | None, message: str) -> str:
    """A spent link also says who has the escalation now, as a second chat click does."""
    esc = session.get(EscalationRow, link.escalation_id) if link is not None else None
    if esc is None or not esc.acked_by:
        return message
    name = person_label(Directory(session).person(esc.acked_by), esc.acked_by)
    return f"{message} Already acknowledged by {name}."


def _reader_tz(session: Session, link: AckLinkRow) -> str:
    person = Directory(session).person(link.person_id)
    return person.tz if person else "UTC"


def confirm_page(session: Session, *, token: str, now: datetime) -> Outcome:
    """GET: what the link would acknowledge, with the button; reads only."""
    found = links.find(session, token, now=now)
    if found.problem or found.link is None:
        status, title, message = REFUSALS[found.problem or "unknown"]
        if found.problem == "used":
            message = _used(session, found.link, message)
        return Outcome(status, found.problem or "unknown", title, message)
    link = found.link
    esc = session.get(EscalationRow, link.escalation_id)
    if esc is None:
        return Outcome(404, "unknown", *REFUSALS["unknown"][1:])
    facts = facts_of(session, esc, link)
    if esc.status not in OPEN:
        return Outcome(200, "closed", f"Escalation {esc.id}", _closed(session, esc, _reader_tz(session, link)), facts)
    tz = _reader_tz(session, link)
    who = person_label(Directory(session).person(link.person_id), link.person_id)
    message = (
        f"Acknowledge escalation {esc.id} as {who}? "
        f"It will not go further up, and the site is told who has it. This link works once and "
        f"expires {local(link.expires_at, tz)} ({tz})."
    )
    return Outcome(200, "confirm", f"Acknowledge escalation {esc.id}", message, facts, confirm=True)


class Desk(Protocol):
    """The chat-neutral acknowledge (`assistant.escalations.EscalationDesk`), as a chat button uses it."""

    def act_as(self, person_id: str, escalation_id: str, *, resolve: bool, now: datetime) -> Acted: ...


def acknowledge(factory: sessionmaker[Session], desk: Desk, *, token: str, now: datetime, client: str) -> Outcome:
    """POST: acknowledge as the link's person, once; audited with the outcome whatever it is.

    The link is spent first, by a conditional update that only one request can win (on SQLite as on
    PostgreSQL), and committed; only the winner acknowledges. A refusal (the person is no longer on
    the site's sponsor team) gives the link back, since nothing was done with it."""
    with transaction(factory) as session:
        found = links.find(session, token, now=now)
        link = found.link
        esc = session.get(EscalationRow, link.escalation_id) if link is not None else None
        problem = found.problem or ("unknown" if esc is None else None)
        if problem is None and link is not None and not links.spend(session, link.id, now=now):
            problem = "used"  # another press won the race
        if problem is not None or link is None or esc is None:
            problem = problem or "unknown"
            status, title, message = REFUSALS[problem]
            if problem == "used":
                message = _used(session, link, message)
            _audit(session, link, problem, now=now, client=client)
            return Outcome(status, problem, title, message)
        facts = facts_of(session, esc, link)
        closed = None if esc.status in OPEN else _closed(session, esc, _reader_tz(session, link))
        link_id, person_id, esc_id = link.id, link.person_id, esc.id
    if closed is not None:
        outcome = Outcome(200, f"already_{esc.status}", f"Escalation {esc_id}", closed, facts, escalation_id=esc_id)
    else:
        try:
            acted = desk.act_as(person_id, esc_id, resolve=False, now=now)
            failed = ""
        except Exception as exc:  # the database went away mid-way: say so, and give the link back
            log.exception("acknowledge link %s: the acknowledgement failed (%s)", link_id, type(exc).__name__)
            acted, failed = Acted(False, TRY_AGAIN), "failed"
        if acted.outcome == "refused":  # nothing changed: the link is given back
            status, kind = (503, "failed") if failed else (403, "refused")
            outcome = Outcome(status, kind, "Siteline could not acknowledge it", acted.message, facts)
        else:
            title = f"Escalation {esc_id} acknowledged" if acted.outcome == "acknowledged" else f"Escalation {esc_id}"
            outcome = Outcome(200, acted.outcome, title, acted.message, facts, escalation_id=esc_id,
                              deliveries=acted.deliveries)  # fmt: skip
    with transaction(factory) as session:
        spent = session.get(AckLinkRow, link_id)
        assert spent is not None
        given_back = outcome.outcome in ("refused", "failed")
        if given_back:
            spent.used_at = None
        _audit(session, spent, outcome.outcome, now=now, client=client,
               reason=outcome.message if given_back else "")  # fmt: skip
    return outcome


def _audit(
    session: Session, link: AckLinkRow | None, outcome: str, *, now: datetime, client: str, reason: str = ""
) -> None:
    detail: dict[str, object] = {"outcome": outcome, "client": client}
    if link is not None:
        detail.update(link=link.id, level=link.level)
    if reason:
        detail["reason"] = reason
    audit.record(
        session,
        now=now,
        actor=link.person_id if link is not None else "unknown",
        action="escalation.ack_link",
        subject=link.escalation_id if link is not None else "unknown",
        detail=detail,
    )
