"""The append-only audit trail: who did what, when (UTC), each row chained to the one before.

A row's hash covers its content and the previous row's hash, so editing or deleting any row
breaks every hash after it; `verify` finds the first broken link. Database triggers (see the
migrations) refuse UPDATE and DELETE outright.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core.clock import iso
from core.models import AuditRow

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x5173  # advisory lock id: one appender at a time keeps the chain linear


def _digest(prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail: dict[str, Any]) -> str:
    body = json.dumps(
        {"prev": prev_hash, "at": iso(at), "actor": actor, "action": action, "subject": subject, "detail": detail},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session, *, now: datetime, actor: str, action: str, subject: str = "", detail: dict[str, Any] | None = None
) -> AuditRow:
    """Append one entry inside the caller's transaction, so it commits with the change it describes."""
    detail = json.loads(json.dumps(detail or {}, default=str))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = session.execute(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    row = AuditRow(
        at=now.replace(microsecond=0),
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev,
        hash=_digest(prev, now.replace(microsecond=0), actor, action, subject, detail),
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class ChainReport:
    rows: int
    ok: bool
    first_bad_id: int | None = None
    problem: str = ""


def verify(session: Session) -> ChainReport:
    """Recompute every hash in order; report the first row that does not match."""
    prev = GENESIS
    count = 0
    for row in session.execute(select(AuditRow).order_by(AuditRow.id)).scalars():
        count += 1
        if row.prev_hash != prev:
            return ChainReport(count, False, row.id, "previous-hash link broken (a row was removed or reordered)")
        if _digest(prev, row.at, row.actor, row.action, row.subject, row.detail) != row.hash:
            return ChainReport(count, False, row.id, "content does not match its hash (the row was edited)")
        prev = row.hash
    return ChainReport(count, True)
