"""The ladder so far, for an e-mail notice: each level's roles, who was told and when, and the
levels still ahead. Chat shows this in its site thread; an e-mail has to carry it itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import iso
from core.directory import Directory
from core.models import DeliveryRow
from escalation.engine import snapshot_of
from escalation.messages import person_label
from escalation.models import EscalationRow, NoticeRow


def ladder_so_far(session: Session, escalation_id: str, now: datetime) -> list[dict[str, Any]]:
    """Every level of the escalation's chain, with the people told by `now` (notices not dropped)."""
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
