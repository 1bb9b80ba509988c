"""Every step of an escalation is an event row and, for decisions, an audit entry (same transaction).

Events are written with the transaction's other rows (at its next query or its commit), in the order recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core import audit
from escalation.models import EscalationRow, EventRow


def record(
    session: Any,
    esc: EscalationRow,
    kind: str,
    *,
    now: datetime,
    actor: str,
    level: int | None = None,
    detail: dict[str, Any] | None = None,
    audited: bool = True,
) -> None:
    """Append an event; `audited` also writes `escalation.<kind>` to the hash-chained audit log."""
    detail = detail or {}
    session.add(
        EventRow(
            escalation_id=esc.id,
            at=now,
            kind=kind,
            level=esc.level if level is None else level,
            actor=actor,
            detail=detail,
        )
    )
    if audited:
        audit.record(
            session,
            now=now,
            actor=actor,
            action=f"escalation.{kind}",
            subject=esc.id,
            detail={"site": esc.site, "study": esc.study, "level": esc.level if level is None else level, **detail},
        )
