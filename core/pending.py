"""Rows a transaction decides on as it goes but writes when it commits, each table's in one statement.

On SQLite the first write statement of a transaction takes the file's one writer lock (see
`core.sqlite_writer`), and every other writer of every process waits until the commit. An
escalation's raise used to write each notice, site update and timer as it decided it, so the lock
was held while it rendered the next message (6 ms of a raise's 19 on a quiet box, for well under
2 ms of SQL), while asks waited to store their answers. Queued here, those rows are written at the
commit, after everything was worked out, together with the ORM's pending rows (flushed by the first
of these statements). This listener runs before the commit's other steps (it is put at the front),
so the audit trail's append, which takes its own lock on PostgreSQL, still comes last.

Like the ORM's autoflush, a query made in the same transaction writes the queued rows first, so the
transaction always reads its own writes; deferral spans the stretches of work with no query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

Writer = Callable[[Session, list[dict[str, Any]]], None]
_KEY = "pending_writes"


def later(session: Session, writer: Writer, row: dict[str, Any]) -> None:
    """Queue `row` for `writer` (e.g. `outbox.enqueue_many`); groups are written in the order first queued."""
    session.connection()  # begun now, so the row belongs to this transaction and ends with it
    groups: dict[Writer, list[dict[str, Any]]] = session.info.setdefault(_KEY, {})
    groups.setdefault(writer, []).append(row)


def write(session: Session) -> None:
    """Write every queued row now (before a query of the same transaction, and at commit)."""
    groups: dict[Writer, list[dict[str, Any]]] | None = session.info.pop(_KEY, None)
    for writer, rows in (groups or {}).items():
        writer(session, rows)


@event.listens_for(Session, "do_orm_execute")
def _write_before_reading(state: ORMExecuteState) -> None:
    if state.is_select and _KEY in state.session.info:
        write(state.session)


@event.listens_for(Session, "before_commit", insert=True)
def _write_at_commit(session: Session) -> None:
    write(session)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back transaction's rows go with it."""
    if transaction.parent is None:
        session.info.pop(_KEY, None)
