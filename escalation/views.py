"""Read side for the surfaces (chat, HTTP, CLI): where escalations stand and what path one would take.

Everything here is structured data plus a plain-language text, so Slack, Teams, the API and the
CLI can render it their own way without re-deriving any rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import iso, parse_instant
from core.directory import Directory
from core.models import DeliveryRow
from core.settings import Settings
from escalation.deliveries import iso_duration
from escalation.engine import OPEN, snapshot_of
from escalation.errors import EscalationError
from escalation.infer import infer
from escalation.ladder import build_snapshot, directory_recipients, project
from escalation.messages import CATEGORY_LABELS, duration, path_lines, person_label, role_label
from escalation.models import EscalationRow, EventRow, NoticeRow
from escalation.policy import CATEGORIES, SEVERITIES
from escalation.policy_store import current_policy


def status_now(esc: EscalationRow, now: datetime) -> str:
    """`raised` until the first notice is due, then `notified`; other statuses as stored."""
    if esc.status == "raised" and esc.level_started:
        first = min(parse_instant(v) for v in esc.level_started.values())
        if first <= now:
            return "notified"
    return esc.status


def to_view(esc: EscalationRow, now: datetime) -> dict[str, Any]:
    snap = snapshot_of(esc)
    return {
        "id": esc.id,
        "site": esc.site,
        "study": esc.study,
        "raised_by": esc.raised_by,
        "summary": esc.summary,
        "category": esc.category,
        "severity": esc.severity,
        "inferred": bool(esc.category_inferred or esc.severity_inferred),
        "inference_reason": esc.inference_reason or None,
        "status": status_now(esc, now),
        "level": esc.level,
        "levels": len(snap.levels),
        "current_roles": snap.roles(esc.level) if esc.level else [],
        "raised_at": iso(esc.raised_at),
        "level_started": dict(esc.level_started or {}),
        "hands_on_at": iso(esc.deadline_at) if esc.deadline_at and esc.status in OPEN else None,
        "halted": esc.halted,
        "acked_by": esc.acked_by,
        "acked_at": iso(esc.acked_at) if esc.acked_at else None,
        "resolved_by": esc.resolved_by,
        "resolved_at": iso(esc.resolved_at) if esc.resolved_at else None,
        "policy_version": esc.policy_version,
        "source": esc.source,
    }


def list_for_site(
    session: Session, *, site: str, now: datetime, include_closed: bool = True, limit: int = 50
) -> list[dict[str, Any]]:
    """A site's escalations, newest first (what `/siteline escalations` shows the site)."""
    query = select(EscalationRow).where(EscalationRow.site == site)
    if not include_closed:
        query = query.where(EscalationRow.status.in_(OPEN))
    rows = session.execute(query.order_by(EscalationRow.raised_at.desc()).limit(limit)).scalars()
    return [to_view(r, now) for r in rows]


def list_open(
    session: Session, *, now: datetime, study: str | None = None, site: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Escalations still climbing or waiting, oldest first (what needs someone's attention)."""
    query = select(EscalationRow).where(EscalationRow.status.in_(OPEN))
    if study:
        query = query.where(EscalationRow.study == study)
    if site:
        query = query.where(EscalationRow.site == site)
    rows = session.execute(query.order_by(EscalationRow.raised_at).limit(limit)).scalars()
    return [to_view(r, now) for r in rows]


def history(session: Session, *, escalation_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(EventRow).where(EventRow.escalation_id == escalation_id).order_by(EventRow.id)
    ).scalars()
    return [{"at": iso(e.at), "kind": e.kind, "level": e.level, "actor": e.actor, "detail": e.detail} for e in rows]


def describe_path(
    session: Session,
    *,
    site: str,
    study: str,
    now: datetime,
    category: str | None = None,
    severity: str | None = None,
    summary: str | None = None,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """The ladder an issue raised now would climb: roles, names, timeouts after the tier factor, when.

    Without category/severity, they are inferred from `summary` if given, else the default chain
    at medium severity is shown. Used by `/siteline escalation-path` and the raise dialog.
    """
    directory = Directory(session)
    site_row = directory.site(site)
    if site_row is None:
        raise EscalationError(f"site: unknown site {site!r}")
    if category is not None and category not in CATEGORIES:
        raise EscalationError(f"category: {category!r} is not one of {', '.join(CATEGORIES)}")
    if severity is not None and severity not in SEVERITIES:
        raise EscalationError(f"severity: {severity!r} is not one of {', '.join(SEVERITIES)}")
    reason = None
    if summary and (category is None or severity is None):
        guess = infer(summary)
        category, severity, reason = category or guess.category, severity or guess.severity, guess.reason
    category, severity = category or "other", severity or "medium"
    version, policy = current_policy(session, settings or Settings.model_construct())
    snap = build_snapshot(policy, version=version, category=category, severity=severity, tier=site_row.tier)
    recipients = directory_recipients(directory, snap, site=site, study=study)
    plan = project(snap, recipients, now)
    levels = []
    for planned in plan:
        timeout = snap.timeout(planned.level)
        levels.append(
            {
                "level": planned.level,
                "roles": planned.roles,
                "role_labels": [role_label(r) for r in planned.roles],
                "people": [
                    {
                        "person_id": n.person.person_id,
                        "name": person_label(n.person),
                        "role": n.role,
                        "tz": n.person.tz,
                        "told_at": iso(n.due),
                    }
                    for n in planned.notices
                ],
                "at_once": planned.level <= snap.notify_through_level,
                "ack_within": iso_duration(timeout.total_seconds()) if timeout else None,
                "ack_within_text": duration(timeout) if timeout else None,
                "starts_at": iso(planned.start) if planned.start else None,
                "hands_on_at": iso(planned.deadline) if planned.deadline else None,
            }
        )
    lines = path_lines(plan, now, site_row.tz, engaged_through=snap.notify_through_level)
    label = CATEGORY_LABELS.get(category, category)
    wh = snap.working_hours
    text = (
        f"A {severity} {label} issue from {site_row.name or site} on {study} would go:\n"
        + "\n".join(lines)
        + "\n"
        + (
            "Critical issues are sent at once, day or night."
            if snap.critical
            else f"Notices wait for each person's working hours ({wh.start}-{wh.end} {'/'.join(wh.days)}, their time)."
        )
    )
    return {
        "site": site,
        "study": study,
        "category": category,
        "severity": severity,
        "inference_reason": reason,
        "tier": snap.tier,
        "timeout_factor": snap.timeout_factor,
        "policy_version": version,
        "critical": snap.critical,
        "working_hours": wh.model_dump(),
        "levels": levels,
        "text": text,
    }


def ladder_so_far(session: Session, escalation_id: str, now: datetime) -> list[dict[str, Any]]:
    """Every level of the escalation's chain, with the people told by `now` (notices not dropped): what a
    notice that must carry its own history (an e-mail; chat has the site thread) shows."""
    esc = session.get(EscalationRow, escalation_id)
    if esc is None:
        return []
    snap = snapshot_of(esc)
    told = session.execute(
        select(NoticeRow.level, NoticeRow.person_id, NoticeRow.due_at)
        .join(DeliveryRow, DeliveryRow.dedupe_key == NoticeRow.dedupe_key)
        .where(
            NoticeRow.escalation_id == escalation_id,
            NoticeRow.due_at <= now,
            DeliveryRow.status.not_in(("cancelled", "failed")),
        )
        .order_by(NoticeRow.level, NoticeRow.due_at, NoticeRow.person_id)
    ).all()
    directory = Directory(session)
    levels = []
    for n in range(1, len(snap.levels) + 1):
        people = [
            {"person_id": pid, "name": person_label(directory.person(pid), pid), "told_at": iso(due)}
            for level, pid, due in told
            if level == n
        ]
        reached = n <= esc.level
        state = "told" if people else ("nobody" if reached else "ahead")
        levels.append({"level": n, "roles": snap.roles(n), "people": people, "state": state})
    return levels


def ack_by(session: Session, escalation_id: str, level: int, now: datetime) -> str | None:
    """The instant a notice for `level` must be acknowledged by (when the escalation hands on), if it
    is still that level's to acknowledge: levels told together (critical) share the highest one's clock."""
    esc = session.get(EscalationRow, escalation_id)
    if esc is None:
        return None
    view = to_view(esc, now)
    current = int(view["level"] or 0)
    through = snapshot_of(esc).notify_through_level
    if view.get("hands_on_at") and (level == current or (level <= through and current == through)):
        return str(view["hands_on_at"])
    return None
