"""Telling the site where its issue stands: on raise (the whole path), on each hand-on, on a gap.

Sites fear escalating because they cannot see where an issue goes; each update names the
people, the times in the site's own zone, and what happens next if nobody acknowledges.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.clock import parse_instant
from core.directory import Directory
from escalation import deliveries, journal
from escalation.ladder import PlannedLevel, Snapshot, directory_recipients, project
from escalation.messages import CATEGORY_LABELS, local, path_lines, role_label
from escalation.models import EscalationRow


def _site_tz(directory: Directory, esc: EscalationRow) -> str:
    site = directory.site(esc.site)
    return site.tz if site else "UTC"


def tell_raised(session: Session, esc: EscalationRow, snap: Snapshot, directory: Directory, *, now: datetime) -> None:
    tz = _site_tz(directory, esc)
    recipients = directory_recipients(directory, snap, site=esc.site, study=esc.study)
    lines = path_lines(project(snap, recipients, esc.raised_at), now, tz, engaged_through=esc.level)
    label = CATEGORY_LABELS.get(esc.category, esc.category)
    guessed = f" (Siteline's reading: {esc.inference_reason})" if esc.inference_reason else ""
    first = ""
    if esc.status != "notified":
        first = f" Nobody is in working hours yet; the first person sees it {_first(esc, tz)}."
    text = (
        f"Your escalation {esc.id} is logged as {label}, {esc.severity}{guessed}.{first} Who will see it:\n"
        + "\n".join(lines)
        + "\nYou will get an update here when it is acknowledged, handed on or resolved."
    )
    deliveries.update_site(
        session,
        esc,
        event="raise",
        status=esc.status,
        text=text,
        now=now,
        extra={"path": lines, "reason": esc.inference_reason or None},
    )


def _first(esc: EscalationRow, tz: str) -> str:
    starts = sorted(esc.level_started.values()) if esc.level_started else []
    if not starts:
        return "when the directory names someone"
    return f"on {local(parse_instant(starts[0]), tz)} your time"


def tell_handed_on(
    session: Session,
    esc: EscalationRow,
    snap: Snapshot,
    directory: Directory,
    *,
    previous_role: str,
    when: datetime,
    zone: str,
    now: datetime,
) -> None:
    tz = _site_tz(directory, esc)
    recipients = directory_recipients(directory, snap, site=esc.site, study=esc.study)
    plan = _replan(snap, recipients, esc.level, when, zone)
    lines = path_lines(plan, now, tz, engaged_through=esc.level, from_level=esc.level)
    text = (
        f"Update on {esc.id}: the {role_label(previous_role)} did not acknowledge in time, so it has gone "
        f"up to level {esc.level}.\n" + "\n".join(lines)
    )
    deliveries.update_site(
        session, esc, event=f"hand_on:L{esc.level}", status="handed_on", text=text, now=now, extra={"path": lines}
    )


def _replan(snap: Snapshot, recipients: Any, level: int, when: datetime, zone: str) -> list[PlannedLevel]:
    """The path from `level` on, `level` being told from `when` (what the engine just did)."""
    shifted = snap.model_copy(update={"notify_through_level": level})
    return [p for p in project(shifted, recipients, when, zone) if p.level >= level]


def halt(session: Session, esc: EscalationRow, snap: Snapshot, directory: Directory, *, now: datetime) -> None:
    """Nobody holds the role for this level: stop climbing, tell the site, alert operations.

    The contract's ladder stops at a level with nobody to tell, so the engine does not skip
    ahead (that would page people the policy did not name); instead the gap is made loud: the
    site is told plainly, every head of clinical operations gets an `escalation_update` naming
    the missing role, and the escalation is listed as halted until someone acks or resolves it.
    """
    roles = " / ".join(role_label(r) for r in snap.roles(esc.level))
    esc.halted = f"nobody is registered as {roles} for study {esc.study} at site {esc.site}"
    esc.deadline_at = None
    journal.record(session, esc, "halted", now=now, actor="siteline", detail={"reason": esc.halted})
    heads = directory.recipients("clinops_head", site=esc.site, study=esc.study)
    for head in heads:
        deliveries.update_person(
            session,
            esc,
            head.person_id,
            event=f"halted:L{esc.level}",
            status="halted",
            now=now,
            text=f"Routing gap: escalation {esc.id} ({esc.site}, {esc.study}, {esc.severity}) cannot reach level "
            f"{esc.level}: {esc.halted}. Please take it or fix the directory.",
        )
    who = "the head of clinical operations has been alerted" if heads else "please contact your CRA directly"
    deliveries.update_site(
        session,
        esc,
        event=f"halted:L{esc.level}",
        status="halted",
        now=now,
        text=f"Update on {esc.id}: {esc.halted}, so it cannot go further automatically; {who}.",
    )
