"""Persisted timers: engines schedule work for a future instant; `fire_due` runs what is due.

Timers survive restarts (they are rows). Each has a unique `key`; re-scheduling the same key
moves it, and a handler receives the timer so it can check it is still current before acting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core import pending
from core.db import hold_write_lock
from core.models import TimerRow

TimerHandler = Callable[[Session, TimerRow, datetime], None]


def schedule(session: Session, *, key: str, kind: str, due_at: datetime, payload: dict[str, Any]) -> TimerRow:
    """Create the timer `key`, or move it (and revive it) if it exists.

    One upsert statement on PostgreSQL and SQLite, so two transactions scheduling the same key at
    once both succeed (the later one wins) instead of one failing on the unique key.
    """
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        ins = insert(TimerRow).values(key=key, kind=kind, due_at=due_at, payload=payload, status="pending")
        stmt = ins.on_conflict_do_update(
            index_elements=["key"],
            set_={"kind": kind, "due_at": ins.excluded.due_at, "payload": ins.excluded.payload, "status": "pending"},
        ).returning(TimerRow)
        return session.scalars(stmt, execution_options={"populate_existing": True}).one()
    row = session.execute(select(TimerRow).where(TimerRow.key == key)).scalar()
    if row is None:
        row = TimerRow(key=key, kind=kind, due_at=due_at, payload=payload, status="pending")
        session.add(row)
    else:
        row.kind, row.due_at, row.payload, row.status = kind, due_at, payload, "pending"
    session.flush()
    return row


def schedule_at_commit(session: Session, *, key: str, kind: str, due_at: datetime, payload: dict[str, Any]) -> None:
    """`schedule`, written when the transaction commits (`core.pending`) with the transaction's other
    queued rows: the decision's remaining work does not hold SQLite's writer lock."""
    pending.later(session, _write_queued, {"key": key, "kind": kind, "due_at": due_at, "payload": payload})


def _write_queued(session: Session, rows: list[dict[str, Any]]) -> None:
    schedule_many(session, [(r["key"], r["kind"], r["due_at"], r["payload"]) for r in rows])


def schedule_many(session: Session, timers: Iterable[tuple[str, str, datetime, dict[str, Any]]]) -> None:
    """`schedule` for many (key, kind, due_at, payload) at once, in one statement (returns nothing)."""
    values = [{"key": k, "kind": kind, "due_at": due, "payload": payload, "status": "pending"} for k, kind, due, payload
              in timers]  # fmt: skip
    if not values:
        return
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        for v in values:
            schedule(session, key=v["key"], kind=v["kind"], due_at=v["due_at"], payload=v["payload"])
        return
    session.execute(_upsert_many(dialect), values)


@cache
def _upsert_many(dialect: str) -> Any:
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(TimerRow.__table__)
    return ins.on_conflict_do_update(
        index_elements=["key"],
        set_={"kind": ins.excluded.kind, "due_at": ins.excluded.due_at, "payload": ins.excluded.payload,
              "status": "pending"},
    )  # fmt: skip


def cancel(session: Session, *, key: str) -> None:
    """Cancel the timer `key` if it is still pending (one statement; the row is not loaded)."""
    stmt = update(TimerRow).where(TimerRow.key == key, TimerRow.status == "pending").values(status="cancelled")
    session.execute(stmt.execution_options(synchronize_session="fetch"))


def next_due(session: Session, kinds: Iterable[str] | None = None) -> datetime | None:
    """The earliest pending timer's instant (the virtual clock jumps there).

    With `kinds`, only timers someone can fire count: a timer of an engine that is not loaded
    would otherwise hold the virtual clock at its instant forever.
    """
    return session.execute(next_due_query(kinds)).scalar()


def next_due_query(kinds: Iterable[str] | None = None) -> Select[tuple[datetime]]:
    """The `next_due` query, to embed in a larger one (the Ticker asks timers and outbox at once)."""
    query = select(TimerRow.due_at).where(TimerRow.status == "pending")
    if kinds is not None:
        query = query.where(TimerRow.kind.in_(sorted(kinds)))
    return query.order_by(TimerRow.due_at).limit(1)


def fire_due(session: Session, *, now: datetime, handlers: Mapping[str, TimerHandler], limit: int = 500) -> int:
    """Run every pending timer due at or before `now`, oldest first; returns how many fired.

    On PostgreSQL rows are claimed with SKIP LOCKED so two processes never fire the same timer.
    A timer whose kind has no handler is left pending (another component may own it).
    """
    query = (
        select(TimerRow)
        .where(TimerRow.status == "pending", TimerRow.due_at <= now, TimerRow.kind.in_(list(handlers)))
        .order_by(TimerRow.due_at, TimerRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    else:  # SQLite: the file's write lock, so two processes never fire one timer
        hold_write_lock(session)
    fired = 0
    for row in list(session.execute(query).scalars()):
        row.status = "done"
        handlers[row.kind](session, row, now)
        fired += 1
    session.flush()
    return fired
