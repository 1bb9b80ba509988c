"""What the escalation engine puts in the outbox: notices to people, status updates to sites and people.

Payloads are platform-neutral: `escalation` (the contract's object) plus the fields a chat adapter
needs to render a card (summary, site, study, chain position, how long to acknowledge) and a plain
`text` fallback. Dedupe keys make every decision idempotent if a step is replayed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import outbox
from core.clock import iso
from core.directory import Directory
from core.models import DeliveryRow
from escalation.ladder import Notice, Snapshot
from escalation.messages import CATEGORY_LABELS, duration, person_label, role_label
from escalation.models import EscalationRow, NoticeRow


def ref(esc: EscalationRow, *, level: int | None = None, status: str | None = None) -> dict[str, Any]:
    """The contract's `escalation` object."""
    out: dict[str, Any] = {
        "id": esc.id,
        "level": esc.level if level is None else level,
        "category": esc.category,
        "severity": esc.severity,
        "inferred": bool(esc.category_inferred or esc.severity_inferred),
    }
    if status is not None:
        out["status"] = status
    return out


def due_now(session: Session, escalation_id: str, now: datetime) -> tuple[str, ...]:
    """Outbox keys of this escalation that are pending and due (what a raise, an ack or a resolve just
    queued), the site's steps first so its thread exists before the "level notified" steps."""
    rows = session.execute(
        select(DeliveryRow.dedupe_key, DeliveryRow.channel, DeliveryRow.id).where(
            DeliveryRow.dedupe_key.startswith(f"esc:{escalation_id}:", autoescape=True),
            DeliveryRow.status == "pending",
            DeliveryRow.due_at <= now,
        )
    ).all()
    return tuple(r.dedupe_key for r in sorted(rows, key=lambda r: (r.channel != "site", r.id)))


def notice_key(esc_id: str, level: int, person_id: str) -> str:
    return f"esc:{esc_id}:L{level}:{person_id}"


def notify(
    session: Session,
    esc: EscalationRow,
    snap: Snapshot,
    notice: Notice,
    *,
    level: int,
    now: datetime,
    directory: Directory,
    previous_role: str | None = None,
) -> None:
    """Queue one person's notice for its due instant and remember it (for ack/resolve)."""
    key = notice_key(esc.id, level, notice.person.person_id)
    # Levels told at once (critical) share the clock of the highest of them.
    clock_level = max(level, snap.notify_through_level)
    timeout = snap.timeout(clock_level)
    next_role = snap.levels[clock_level].role if clock_level < len(snap.levels) else None
    site = directory.site(esc.site)
    raiser = directory.person(esc.raised_by)
    if previous_role:
        why = f"No acknowledgement from the {role_label(previous_role)} in time; it now comes to you"
    elif snap.notify_through_level > 1:
        why = f"Critical: levels 1 to {snap.notify_through_level} are told at once"
    else:
        why = "You are the first line for this issue"
    ask = (
        f"Please acknowledge within {duration(timeout)}, or it goes to the {role_label(next_role)}."
        if timeout and next_role
        else "You are the last level of this escalation."
    )
    text = (
        f"Escalation {esc.id} from {site.name if site and site.name else esc.site} on {esc.study}: "
        f"{CATEGORY_LABELS.get(esc.category, esc.category)}, {esc.severity}. {why} "
        f"(level {level} of {len(snap.levels)}, as {role_label(notice.role)}). {ask}\n> {esc.summary}"
    )
    payload = {
        "items": [],
        "escalation": ref(esc, level=level),
        "summary": esc.summary,
        "site": esc.site,
        "site_name": site.name if site else esc.site,
        "study": esc.study,
        "raised_by": esc.raised_by,
        "raised_by_name": person_label(raiser, esc.raised_by),
        "raised_at": iso(esc.raised_at),
        "role": notice.role,
        "chain_position": {"level": level, "of": len(snap.levels)},
        "ack_within": iso_duration(timeout.total_seconds()) if timeout else None,
        "ack_within_text": duration(timeout) if timeout else None,
        "hands_on_to": next_role if timeout else None,
        "inference_reason": esc.inference_reason or None,
        "text": text,
    }
    outbox.enqueue(
        session,
        at_commit=True,
        dedupe_key=key,
        now=now,
        due_at=notice.due,
        channel="person",
        recipient=notice.person.person_id,
        kind="escalation",
        payload=payload,
    )
    session.add(
        NoticeRow(
            escalation_id=esc.id,
            level=level,
            person_id=notice.person.person_id,
            role=notice.role,
            due_at=notice.due,
            dedupe_key=key,
        )
    )


def update_site(
    session: Session,
    esc: EscalationRow,
    *,
    event: str,
    status: str,
    text: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """Tell the site where its issue stands (sent at once: the site is waiting on it)."""
    outbox.enqueue(
        session,
        at_commit=True,
        dedupe_key=f"esc:{esc.id}:site:{event}",
        now=now,
        due_at=now,
        channel="site",
        recipient=esc.site,
        kind="escalation_update",
        payload={"items": [], "escalation": ref(esc, status=status), "event": event, "text": text, **(extra or {})},
    )


def update_person(
    session: Session, esc: EscalationRow, person_id: str, *, event: str, status: str, text: str, now: datetime
) -> None:
    """Tell someone already involved (ack by a colleague, resolution, a routing gap)."""
    outbox.enqueue(
        session,
        at_commit=True,
        dedupe_key=f"esc:{esc.id}:person:{person_id}:{event}",
        now=now,
        due_at=now,
        channel="person",
        recipient=person_id,
        kind="escalation_update",
        payload={
            "items": [],
            "escalation": ref(esc, status=status),
            "event": event,
            "text": text,
            "summary": esc.summary,
            "site": esc.site,
            "study": esc.study,
        },
    )


def iso_duration(seconds: float) -> str:
    """Seconds as ISO 8601 (`PT2H`, `PT1H30M`, `P1DT12H`)."""
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    tail = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    return out + ("T" + tail if tail else ("" if days else "T0S"))
