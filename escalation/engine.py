"""Raising an escalation and climbing its ladder (the hand-on timer).

A raise snapshots the policy in force, tells level 1 (or levels 1..N for critical issues),
tells the site who will see it and when, and schedules a persisted hand-on timer for when the
highest notified level runs out of time. The timer checks it is still current (same level, same
deadline, escalation still open) before acting, so an ack or a re-plan makes it harmless.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.clock import iso
from core.directory import Directory
from core.domain import Person
from core.models import TimerRow
from core.settings import Settings
from escalation import deliveries, journal, site_updates
from escalation.errors import Conflict, EscalationError, Forbidden
from escalation.infer import Refiner, infer
from escalation.ladder import (
    RAISE_ZONE,
    Notice,
    Snapshot,
    build_snapshot,
    deadline_after,
    directory_recipients,
    first,
    notices,
)
from escalation.models import EscalationRow
from escalation.policy_store import current_policy
from escalation.refine import build_refiner
from scheduler import timers

HAND_ON = "escalation.hand_on"
OPEN = ("raised", "notified", "handed_on")
# An ack at the very deadline counts as in time (the contract: a deadline at or after the ack
# does not hand on); the timer fires just after it, so input at that instant is applied first.
AFTER_DEADLINE = timedelta(microseconds=1)


def timer_key(esc_id: str, level: int) -> str:
    return f"escalation:{esc_id}:L{level}"


def snapshot_of(esc: EscalationRow) -> Snapshot:
    return Snapshot.model_validate(esc.snapshot)


def raise_escalation(
    session: Session,
    *,
    site: str,
    study: str,
    raised_by: str,
    summary: str,
    now: datetime,
    category: str | None = None,
    severity: str | None = None,
    source: str = "chat",
    escalation_id: str | None = None,
    question_id: str | None = None,
    settings: Settings | None = None,
    strict: bool = True,
    refiner: Refiner | None = None,
) -> EscalationRow:
    """Store and route a new escalation. `strict` (every surface but replay) also checks the raiser's scope."""
    directory = Directory(session)
    site_row = directory.site(site)
    if site_row is None:
        raise EscalationError(f"site: unknown site {site!r}")
    if strict:
        _check_raiser(directory, site_row.studies, site=site, study=study, raised_by=raised_by)
    escalation_id = escalation_id or f"esc-{uuid.uuid4().hex[:10]}"
    if session.get(EscalationRow, escalation_id) is not None:
        raise Conflict(f"id: escalation {escalation_id!r} already exists")
    category_inferred, severity_inferred = category is None, severity is None
    settings = settings or Settings.model_construct()
    if refiner is None:
        refiner = build_refiner(settings)
    guess = infer(summary, refiner=refiner) if category_inferred or severity_inferred else None
    reasons = []
    if guess and category_inferred:
        reasons.append(guess.category_reason)
    if guess and severity_inferred:
        reasons.append(guess.severity_reason)
    category = category or (guess.category if guess else "other")
    severity = severity or (guess.severity if guess else "medium")
    version, policy = current_policy(session, settings)
    snap = build_snapshot(policy, version=version, category=category, severity=severity, tier=site_row.tier)
    # Who each level tells, the raiser and the site are read first (the directory keeps them for the notices
    # and the path shown to the site, below): every row the raise decides is then queued with no query in
    # between and written at commit (`core.pending`), so SQLite's one writer lock, which every other writer
    # of the file waits for, is held for those writes alone.
    recipients = directory_recipients(directory, snap, site=site, study=study)
    people = {level: recipients(level) for level in range(1, len(snap.levels) + 1)}
    directory.person(raised_by)
    esc = EscalationRow(
        id=escalation_id,
        site=site,
        study=study,
        raised_by=raised_by,
        summary=summary,
        category=category,
        severity=severity,
        category_inferred=category_inferred,
        severity_inferred=severity_inferred,
        inference_reason="; ".join(reasons),
        source=source,
        question_id=question_id,
        policy_version=version,
        snapshot=snap.as_json(),
        status="raised",
        level=0,
        level_started={},
        raised_at=now,
    )
    session.add(esc)  # written, with everything the raise decides below, when the transaction commits
    journal.record(
        session,
        esc,
        "raise",
        now=now,
        actor=raised_by,
        level=0,
        detail={
            "category": category,
            "severity": severity,
            "inferred": deliveries.ref(esc)["inferred"],
            "reason": esc.inference_reason,
            "policy_version": version,
            "tier": snap.tier,
            "source": source,
        },
    )
    head = None
    for level in range(1, snap.notify_through_level + 1):
        head = _engage(
            session, esc, snap, directory, level=level, when=now, zone=RAISE_ZONE, now=now, people=people[level]
        )
    esc.level = snap.notify_through_level
    esc.status = "notified" if head is not None and head.due <= now else "raised"
    if head is None:
        site_updates.halt(session, esc, snap, directory, now=now)
    else:
        _arm(session, esc, snap, head)
    site_updates.tell_raised(session, esc, snap, directory, now=now)
    return esc


def _check_raiser(directory: Directory, site_studies: list[str], *, site: str, study: str, raised_by: str) -> None:
    if study not in site_studies:
        raise EscalationError(f"study: site {site} is not on study {study!r}")
    person = directory.person(raised_by)
    if person is None:
        raise Forbidden(f"raised_by: {raised_by!r} is not in the directory")
    if not person.covers(site=site, study=study):
        raise Forbidden(f"raised_by: {raised_by} is not on site {site} / study {study}")


def _engage(
    session: Session,
    esc: EscalationRow,
    snap: Snapshot,
    directory: Directory,
    *,
    level: int,
    when: datetime,
    zone: str,
    now: datetime,
    previous_role: str | None = None,
    people: list[tuple[Person, str]] | None = None,
) -> Notice | None:
    """Queue every notice of `level` (from instant `when`); returns its first notice (the level's start).
    `people`: the level's recipients, when the caller read them already."""
    if people is None:
        people = directory_recipients(directory, snap, site=esc.site, study=esc.study)(level)
    told = notices(snap, people, when, zone)
    for notice in told:
        deliveries.notify(
            session, esc, snap, notice, level=level, now=now, directory=directory, previous_role=previous_role
        )
    head = first(told)
    start = head.due if head else None
    journal.record(
        session,
        esc,
        "notify",
        now=now,
        actor="siteline",
        level=level,
        detail={
            "roles": snap.roles(level),
            "recipients": {n.person.person_id: iso(n.due) for n in told},
            "start": iso(start) if start else None,
            "critical": snap.critical,
        },
    )
    if start is not None:
        esc.level_started = {**(esc.level_started or {}), str(level): iso(start)}
    return head


def _arm(session: Session, esc: EscalationRow, snap: Snapshot, head: Notice) -> None:
    """Schedule the hand-on for the current level, unless it is the last one."""
    timeout = snap.timeout(esc.level)
    esc.clock_zone = head.zone
    if timeout is None:
        esc.deadline_at = None
        return
    deadline = deadline_after(head.due, head.zone, timeout)
    esc.deadline_at = deadline
    timers.schedule_at_commit(
        session,
        key=timer_key(esc.id, esc.level),
        kind=HAND_ON,
        due_at=deadline + AFTER_DEADLINE,
        payload={"escalation_id": esc.id, "level": esc.level, "deadline": iso(deadline)},
    )


def hand_on(session: Session, timer: TimerRow, now: datetime) -> None:
    """Timer handler: the current level did not acknowledge in time; tell the next one."""
    payload: dict[str, Any] = timer.payload or {}
    esc = session.get(EscalationRow, str(payload.get("escalation_id")))
    if esc is None:
        return
    current = (
        esc.status in OPEN
        and esc.level == payload.get("level")
        and esc.deadline_at is not None
        and iso(esc.deadline_at) == payload.get("deadline")
    )
    if not current:
        journal.record(
            session,
            esc,
            "stale_timer",
            now=now,
            actor="siteline",
            audited=False,
            detail={"timer_level": payload.get("level"), "status": esc.status},
        )
        return
    snap = snapshot_of(esc)
    directory = Directory(session)
    deadline = esc.deadline_at
    assert deadline is not None
    previous_role = snap.levels[esc.level - 1].role
    esc.level += 1
    esc.status = "handed_on"
    journal.record(
        session,
        esc,
        "hand_on",
        now=now,
        actor="siteline",
        detail={"from_role": previous_role, "deadline": iso(deadline)},
    )
    zone = esc.clock_zone or RAISE_ZONE
    head = _engage(
        session, esc, snap, directory, level=esc.level, when=deadline, zone=zone, now=now, previous_role=previous_role
    )
    if head is None:
        site_updates.halt(session, esc, snap, directory, now=now)
        return
    _arm(session, esc, snap, head)
    site_updates.tell_handed_on(
        session, esc, snap, directory, previous_role=previous_role, when=deadline, zone=zone, now=now
    )
