"""What an acknowledge link does: show what it would acknowledge (GET, changes nothing, because mail
scanners open links) and acknowledge it once, as the person it was issued to (POST).

The acknowledgement goes through the escalation engine exactly as a chat button does, in the same
transaction that spends the link and writes `escalation.ack_link` (with its outcome) to the audit
trail. Every refusal is an outcome with an HTTP status and a sentence for the reader, never an
exception; the token itself is never stored, logged or audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.email import links
from bot.email.models import AckLinkRow
from bot.email.render import category_text
from core import audit
from core.directory import Directory
from escalation import service as escalations
from escalation.engine import OPEN
from escalation.messages import local, person_label, role_label
from escalation.models import EscalationRow

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


def _reader_tz(session: Session, link: AckLinkRow) -> str:
    person = Directory(session).person(link.person_id)
    return person.tz if person else "UTC"


def confirm_page(session: Session, *, token: str, now: datetime) -> Outcome:
    """GET: what the link would acknowledge, with the button; reads only."""
    found = links.find(session, token, now=now)
    if found.problem or found.link is None:
        status, title, message = REFUSALS[found.problem or "unknown"]
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


def acknowledge(session: Session, *, token: str, now: datetime, client: str) -> Outcome:
    """POST: acknowledge as the link's person, once; audited with the outcome whatever it is."""
    found = links.find(session, token, now=now, lock=True)
    link = found.link
    esc = session.get(EscalationRow, link.escalation_id) if link is not None else None
    if found.problem or link is None or esc is None:
        problem = found.problem or "unknown"
        status, title, message = REFUSALS[problem]
        _audit(session, link, problem, now=now, client=client)
        return Outcome(status, problem, title, message)
    facts = facts_of(session, esc, link)
    tz = _reader_tz(session, link)
    if esc.status not in OPEN:
        outcome = Outcome(
            200, f"already_{esc.status}", f"Escalation {esc.id}", _closed(session, esc, tz), facts, escalation_id=esc.id
        )
    else:
        try:
            escalations.ack(session, escalation_id=esc.id, by=link.person_id, now=now)
        except escalations.EscalationError as exc:  # refused before anything changed (scope, state)
            _audit(session, link, "refused", now=now, client=client, reason=str(exc))
            return Outcome(exc.status, "refused", "Siteline could not acknowledge it", str(exc), facts)
        person = Directory(session).person(link.person_id)
        who = person_label(person, link.person_id) + (f", {role_label(person.role)}" if person else "")
        message = (
            f"Escalation {esc.id} is acknowledged by {who}. It will not go further up; the site is told "
            "you have it. Please follow up with them."
        )
        title = f"Escalation {esc.id} acknowledged"
        outcome = Outcome(200, "acknowledged", title, message, facts, escalation_id=esc.id)
    link.used_at = now
    _audit(session, link, outcome.outcome, now=now, client=client)
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
