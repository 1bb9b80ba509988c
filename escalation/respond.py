"""Acknowledging and resolving: stop the ladder, drop notices still waiting, tell who needs to know.

`ack` stops the hand-on (the timer is cancelled, and would find itself stale anyway); `resolve`
closes the escalation. Either drops every notice still waiting for working hours, tells the
site, and tells the people already reached (a colleague took it / it is resolved).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.db import hold_write_lock
from core.directory import Directory
from core.domain import SPONSOR_ROLES
from core.models import DeliveryRow
from escalation import deliveries, journal
from escalation.engine import OPEN, timer_key
from escalation.errors import Conflict, Forbidden, NotFound
from escalation.messages import person_label, role_label
from escalation.models import EscalationRow, NoticeRow
from scheduler import timers


def get(session: Session, escalation_id: str, *, for_update: bool = False) -> EscalationRow:
    """The escalation; `for_update`: read fresh under its row lock (SQLite: the file's write lock), as a change
    needs it: two acknowledgements arriving together would each read "open" and each apply."""
    if for_update:
        hold_write_lock(session)
    esc = session.get(EscalationRow, escalation_id, with_for_update=for_update, populate_existing=for_update)
    if esc is None:
        raise NotFound(f"escalation: no escalation {escalation_id!r}")
    return esc


def ack(session: Session, *, escalation_id: str, by: str, now: datetime, strict: bool = True) -> EscalationRow:
    """Someone on the sponsor side has it: no more hand-on; the site is told who."""
    esc = get(session, escalation_id, for_update=True)
    directory = Directory(session)
    person = directory.person(by)
    if strict:
        _check(
            person is not None and person.role in SPONSOR_ROLES and person.covers(site=esc.site, study=esc.study),
            f"by: {by} may not acknowledge escalations of site {esc.site} / study {esc.study}",
        )
    if esc.status not in OPEN:
        if strict and esc.status == "resolved":
            raise Conflict(f"escalation: {esc.id} is already resolved")
        journal.record(
            session,
            esc,
            "ack_ignored",
            now=now,
            actor=by,
            audited=True,
            detail={"status": esc.status, "acked_by": esc.acked_by},
        )
        return esc
    told = _notices(session, esc)  # read before the first write (from then on SQLite's write lock is held)
    esc.status, esc.acked_at, esc.acked_by = "acknowledged", now, by
    dropped, reached = _stop(session, esc, told, now=now)
    journal.record(session, esc, "ack", now=now, actor=by, detail={"dropped": dropped, "reached": reached})
    who = person_label(person, by) + (f", {role_label(person.role)}" if person else "")
    deliveries.update_site(
        session,
        esc,
        event="ack",
        status="acknowledged",
        now=now,
        text=f"Your escalation {esc.id} was acknowledged by {who}. It will not go further up; "
        "they will follow up with you.",
    )
    for pid in reached:
        if pid != by:
            deliveries.update_person(
                session,
                esc,
                pid,
                event="ack",
                status="acknowledged",
                now=now,
                text=f"Escalation {esc.id} ({esc.site}, {esc.study}) was acknowledged by {who}; no action needed "
                "from you unless they ask.",
            )
    return esc


def resolve(session: Session, *, escalation_id: str, by: str, now: datetime, strict: bool = True) -> EscalationRow:
    """Close it: the site and everyone already reached are told; waiting notices are dropped."""
    esc = get(session, escalation_id, for_update=True)
    directory = Directory(session)
    person = directory.person(by)
    if strict:
        _check(
            person is not None and person.covers(site=esc.site, study=esc.study),
            f"by: {by} may not resolve escalations of site {esc.site} / study {esc.study}",
        )
    if esc.status == "resolved":
        journal.record(session, esc, "resolve_ignored", now=now, actor=by, detail={"resolved_by": esc.resolved_by})
        return esc
    told = _notices(session, esc)  # read before the first write (from then on SQLite's write lock is held)
    esc.status, esc.resolved_at, esc.resolved_by = "resolved", now, by
    dropped, reached = _stop(session, esc, told, now=now)
    journal.record(session, esc, "resolve", now=now, actor=by, detail={"dropped": dropped, "reached": reached})
    who = person_label(person, by)
    deliveries.update_site(
        session,
        esc,
        event="resolve",
        status="resolved",
        now=now,
        text=f"Your escalation {esc.id} was marked resolved by {who}.",
    )
    for pid in reached:
        if pid != by:
            deliveries.update_person(
                session,
                esc,
                pid,
                event="resolve",
                status="resolved",
                now=now,
                text=f"Escalation {esc.id} ({esc.site}, {esc.study}) was resolved by {who}. Nothing more to do.",
            )
    return esc


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise Forbidden(message)


def _notices(session: Session, esc: EscalationRow) -> list[tuple[NoticeRow, str]]:
    """Every notice of the escalation with its delivery's status, by level and person."""
    query = (
        select(NoticeRow, DeliveryRow.status)
        .join(DeliveryRow, DeliveryRow.dedupe_key == NoticeRow.dedupe_key)
        .where(NoticeRow.escalation_id == esc.id)
        .order_by(NoticeRow.level, NoticeRow.person_id)
    )
    return list(session.execute(query).tuples())


def _stop(
    session: Session, esc: EscalationRow, told: list[tuple[NoticeRow, str]], *, now: datetime
) -> tuple[list[str], list[str]]:
    """Cancel the hand-on timer and every notice of `told` not yet out; returns (dropped, reached) person ids."""
    timers.cancel(session, key=timer_key(esc.id, esc.level))
    esc.deadline_at = None
    waiting = [n.dedupe_key for n, status in told if status in ("pending", "blocked")]
    cancelled = outbox.cancel_pending(session, waiting)  # what a sender has not claimed since `told` was read
    dropped: list[str] = []
    reached: list[str] = []
    for notice, status in told:
        if notice.dedupe_key in cancelled:
            dropped.append(notice.person_id)
            journal.record(
                session,
                esc,
                "notice_dropped",
                now=now,
                actor="siteline",
                level=notice.level,
                detail={"person": notice.person_id, "was_due": notice.due_at.isoformat()},
            )
        elif status in ("sent", "sending") and notice.person_id not in reached:
            reached.append(notice.person_id)
    return dropped, reached
