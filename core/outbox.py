"""The outbox: every delivery decision is a row before anything is sent.

`enqueue` is idempotent by `dedupe_key`, so a decision replayed after a crash is stored once.
`claim_due` takes rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two workers never send
the same row. A claim is a short lease (`LEASE`, 30 s) that the worker renews while it works
through its batch (`renew`); a row claimed by a worker that died is reclaimed once its lease runs
out, so an urgent message waits well under a minute after a crash, not minutes. Urgent kinds are
claimed first. A claimed row is sent inside a transaction that holds its row lock
(`lock_claimed`), so a reclaim can never overlap a send still in progress, and the worker
re-checks that the claim is still its own.
A row whose platform cannot be used at all (none configured, a wrong token) is `blocked`, not
failed: its attempt is not counted, it is tried again every `BLOCKED_RETRY` and at once when a
scheduler starts (`unblock`), so fixing the configuration delivers everything held.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from core import pending
from core.db import hold_write_lock, transaction
from core.models import DeliveryRow
from core.notify import PARTS_SENT, Notifier, NotifierStopped, OutboundMessage, SendResult

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=30)  # a send times out after 15 s; the worker renews before each one
STALE_CLAIM = LEASE  # the older name: a claim is stale when its lease has run out
URGENT_KINDS = ("immediate", "escalation")  # claimed before anything else that is due
BLOCKED_RETRY = timedelta(minutes=10)


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    now: datetime,
    due_at: datetime,
    channel: str,
    recipient: str,
    kind: str,
    payload: dict[str, Any],
    at_commit: bool = False,
) -> bool:
    """Store a delivery unless one with this key exists; returns whether a row was added.

    `at_commit`: queue it instead, to be written when the transaction commits with its other queued
    deliveries in one statement (`core.pending`), for a unit of work that decides several messages (an
    escalation's raise) and need not know whether the key was new; returns True (a key that exists by
    then is skipped, as here)."""
    if at_commit:
        row = dict(dedupe_key=dedupe_key, due_at=due_at, channel=channel, recipient=recipient, kind=kind)
        pending.later(session, _write_queued, {**row, "payload": payload, "created_at": now})
        return True
    values = dict(
        dedupe_key=dedupe_key,
        created_at=now,
        due_at=due_at,
        channel=channel,
        recipient=recipient,
        kind=kind,
        payload=payload,
        status="pending",
        attempts=0,
    )
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(DeliveryRow).values(**values)
        stmt = ins.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(DeliveryRow.id)
        return session.execute(stmt).first() is not None
    if session.execute(select(DeliveryRow.id).where(DeliveryRow.dedupe_key == dedupe_key)).first():
        return False
    session.add(DeliveryRow(**values))
    session.flush()
    return True


@cache
def _insert_new(dialect: str) -> Any:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING, built once per dialect."""
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(DeliveryRow.__table__)
    return ins.on_conflict_do_nothing(index_elements=["dedupe_key"])


def enqueue_many(session: Session, rows: Iterable[dict[str, Any]], *, now: datetime) -> None:
    """`enqueue` for many rows in one statement (a digest flush for many sites, an urgent update to
    many sites). Each row gives dedupe_key, due_at, channel, recipient, kind and payload; rows whose
    key exists are skipped, as with `enqueue`. A row may carry its own `created_at` (`now` otherwise)."""
    values = [{"created_at": now, **r, "status": "pending", "attempts": 0} for r in rows]
    if not values:
        return
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        session.execute(_insert_new(dialect), values)
        return
    for v in values:
        enqueue(
            session,
            **{k: v[k] for k in ("dedupe_key", "due_at", "channel", "recipient", "kind", "payload")},
            now=v["created_at"],
        )


def _write_queued(session: Session, rows: list[dict[str, Any]]) -> None:
    """`enqueue(at_commit=True)`'s rows, each with the instant it was decided at."""
    enqueue_many(session, rows, now=rows[0]["created_at"])


def cancel_pending(session: Session, dedupe_keys: Sequence[str]) -> set[str]:
    """Drop the deliveries of `dedupe_keys` that have not gone out yet, in one statement; returns the keys
    dropped (one being sent or sent already stays), without loading the rows."""
    if not dedupe_keys:
        return set()
    stmt = (
        update(DeliveryRow)
        .where(DeliveryRow.dedupe_key.in_(dedupe_keys), DeliveryRow.status.in_(("pending", "blocked")))
        .values(status="cancelled")
        .returning(DeliveryRow.dedupe_key)
        .execution_options(synchronize_session=False)
    )
    return set(session.execute(stmt).scalars())


def claim_due(session: Session, *, now: datetime, worker: str, limit: int = 50) -> Sequence[DeliveryRow]:
    """Mark up to `limit` due rows as `sending` by this worker and return them (commit right after)."""
    stale = now - STALE_CLAIM
    query = (
        select(DeliveryRow)
        .where(
            DeliveryRow.due_at <= now,
            or_(
                DeliveryRow.status == "pending",
                (DeliveryRow.status == "sending") & (DeliveryRow.claimed_at < stale),
                (DeliveryRow.status == "blocked") & (DeliveryRow.claimed_at < now - BLOCKED_RETRY),
            ),
        )
        .order_by(case((DeliveryRow.kind.in_(URGENT_KINDS), 0), else_=1), DeliveryRow.due_at, DeliveryRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    else:  # SQLite has no row locks: the file's write lock keeps another process from claiming the same rows
        hold_write_lock(session)
    rows = list(session.execute(query).scalars())
    for row in rows:
        row.status = "sending"
        row.claimed_by = worker
        row.claimed_at = now
        row.attempts += 1
    session.flush()
    return rows


def renew(session: Session, *, row_ids: Sequence[int], worker: str, now: datetime) -> None:
    """The heartbeat: extend this worker's lease on the rows it still holds (rows another worker
    reclaimed meanwhile stay theirs)."""
    if not row_ids:
        return
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(list(row_ids)), DeliveryRow.status == "sending", DeliveryRow.claimed_by == worker)
        .values(claimed_at=now)
    )


def lock_claimed(session: Session, *, row_id: int, worker: str) -> DeliveryRow | None:
    """The row, locked for this transaction, if it is still claimed by `worker` (else None: another
    worker reclaimed it, or it was cancelled). Send only what this returns."""
    query = select(DeliveryRow).where(
        DeliveryRow.id == row_id, DeliveryRow.status == "sending", DeliveryRow.claimed_by == worker
    )
    if session.get_bind().dialect.name == "postgresql":
        # Wait, never skip: another worker's claim query may briefly hold this row's lock after
        # rejecting it on recheck; skipping would leave our claimed row `sending` until stale.
        query = query.with_for_update()
    return session.execute(query).scalar()


def reclaim_from_others(session: Session, *, worker: str) -> int:
    """Take back, as pending, rows other workers claimed but are not sending right now.

    For a scheduler leader that has just taken over: the previous leader's claims would otherwise
    wait `STALE_CLAIM` (an urgent item 5 minutes late). A row another worker is sending is locked
    and skipped; a live worker that finds its claim gone skips the row (`lock_claimed`), so this
    never causes a second send. PostgreSQL only: SQLite has no row locks to tell a live sender by."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    query = (
        select(DeliveryRow)
        .where(DeliveryRow.status == "sending", DeliveryRow.claimed_by != worker)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.execute(query).scalars())
    for row in rows:
        row.status, row.claimed_by = "pending", None
    if rows:
        log.warning("took back %d deliveries claimed by a previous scheduler leader", len(rows))
    return len(rows)


def release(session: Session, *, row_ids: Sequence[int], worker: str, due_at: datetime) -> None:
    """Give back claimed rows unsent (e.g. the platform asked us to slow down), due again at `due_at`;
    their attempt is not counted."""
    if not row_ids:
        return
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(list(row_ids)), DeliveryRow.status == "sending", DeliveryRow.claimed_by == worker)
        .values(status="pending", claimed_by=None, due_at=due_at, attempts=DeliveryRow.attempts - 1)
    )


def unblock(session: Session) -> int:
    """Make every `blocked` row pending again (a scheduler starting, perhaps with the platform now
    configured); returns how many. Rows that still cannot go are blocked again, uncounted."""
    result = session.execute(
        update(DeliveryRow).where(DeliveryRow.status == "blocked").values(status="pending", claimed_by=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def to_message(row: DeliveryRow) -> OutboundMessage:
    return OutboundMessage(
        delivery_id=row.id, channel=row.channel, recipient=row.recipient, kind=row.kind, payload=row.payload
    )


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Honour the platform's Retry-After; otherwise back off exponentially (capped at 30 min)."""
    if retry_after is not None:
        return timedelta(seconds=max(retry_after, 1.0))
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def _send(notifier: Notifier, message: OutboundMessage) -> SendResult:
    try:
        return notifier.send(message)
    except NotifierStopped:
        raise
    except Exception as exc:  # the worker boundary: record, back off, keep delivering the others
        log.exception("notifier failed on delivery %s (%s to %s)", message.delivery_id, message.kind, message.recipient)
        return SendResult.retry(f"{type(exc).__name__}: {exc}"[:500])


def _outcome(
    row_id: int, kind: str, recipient: str, attempts: int, result: SendResult, now: datetime
) -> dict[str, Any]:
    """The column values that record a send's result on its row."""
    if result.ok:
        return {"status": "sent", "sent_at": now, "external_ref": result.external_ref, "last_error": None}
    if result.blocked:
        log.warning("delivery %s (%s to %s) held, not sent: %s", row_id, kind, recipient, result.error)
        return {"status": "blocked", "last_error": result.error, "attempts": max(attempts - 1, 0)}
    if result.recoverable and attempts < MAX_ATTEMPTS:
        return {"status": "pending", "due_at": now + backoff(attempts, result.retry_after), "last_error": result.error}
    log.error("delivery %s (%s to %s) failed for good: %s", row_id, kind, recipient, result.error)
    return {"status": "failed", "last_error": result.error}


def deliver_one(session: Session, row: DeliveryRow, notifier: Notifier, *, now: datetime) -> SendResult:
    """Send one claimed row and record the outcome on it (the caller commits); returns the result.

    A notifier that raises is treated as a recoverable failure (logged once with the row id), so
    one broken send never stops the delivery loop nor leaves the row claimed.
    """
    result = _send(notifier, to_message(row))
    for column, value in _outcome(row.id, row.kind, row.recipient, row.attempts, result, now).items():
        setattr(row, column, value)
    if not result.ok and result.parts_sent:  # some parts of a split message are out: never resend them
        row.payload = {**row.payload, PARTS_SENT: result.parts_sent}
    row.claimed_by = None
    row.claimed_at = now  # when it was last tried: a blocked row is retried BLOCKED_RETRY after this
    session.flush()
    return result


_BATCH_COLUMNS = ("status", "due_at", "sent_at", "external_ref", "last_error", "attempts", "claimed_at")


def deliver_batch(session: Session, notifier: Notifier, *, now: datetime, limit: int) -> list[SendResult]:
    """Send up to `limit` due rows and record them all in the caller's one transaction.

    Only for private, throw-away storage (the replay's in-memory database): a crash here would roll
    back the record of every send in the batch. The live service uses `claim_due` + `deliver_one`.
    (The replay's notifier sends each row whole, so `parts_sent` is not recorded here.)
    """
    rows = session.execute(
        select(
            DeliveryRow.id,
            DeliveryRow.channel,
            DeliveryRow.recipient,
            DeliveryRow.kind,
            DeliveryRow.payload,
            DeliveryRow.attempts,
            DeliveryRow.due_at,
        )
        .where(DeliveryRow.due_at <= now, DeliveryRow.status == "pending")
        .order_by(DeliveryRow.due_at, DeliveryRow.id)
        .limit(limit)
    ).all()
    results, changes = [], []
    for r in rows:
        result = _send(notifier, OutboundMessage(r.id, r.channel, r.recipient, r.kind, r.payload))
        values = {"due_at": r.due_at, "sent_at": None, "external_ref": None, "attempts": r.attempts + 1}
        values["claimed_at"] = now
        values.update(_outcome(r.id, r.kind, r.recipient, r.attempts + 1, result, now))
        changes.append({"row_id": r.id, **{f"v_{c}": values[c] for c in _BATCH_COLUMNS}})
        results.append(result)
        if result.retry_after is not None:
            break  # the platform asked us to slow down: the rest wait for the next run
    if changes:
        table = DeliveryRow.__table__
        stmt = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({c: bindparam(f"v_{c}") for c in _BATCH_COLUMNS})
        )
        session.execute(stmt, changes)
    return results


def send_now(factory: sessionmaker[Session], notifier: Notifier, keys: Iterable[str], *, now: datetime) -> int:
    """Deliver each pending, due row with one of `keys` now, instead of at the next tick (a CRA should
    see an Ask-my-CRA DM seconds after the click). Rows are claimed the outbox's way (pending →
    sending by this worker, SKIP LOCKED on PostgreSQL, sent under the row lock), so the scheduler and
    this never send one row twice. The decision is already stored, so nothing here is the caller's
    problem: a row not sent (claimed elsewhere, refused, or an error on the way) is logged and left to
    the scheduler. Returns how many rows were handed to the notifier."""
    worker = f"now-{os.getpid()}"
    sent = 0
    for key in keys:
        try:
            sent += _send_one_now(factory, notifier, key, worker=worker, now=now)
        except Exception as exc:  # the row stays pending (or its claim lapses): the scheduler retries it
            log.warning("sending %s now failed (%s); the scheduler will retry", key, type(exc).__name__)
    return sent


def _send_one_now(factory: sessionmaker[Session], notifier: Notifier, key: str, *, worker: str, now: datetime) -> int:
    with transaction(factory) as session:
        query = select(DeliveryRow).where(
            DeliveryRow.dedupe_key == key, DeliveryRow.status == "pending", DeliveryRow.due_at <= now
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        else:
            hold_write_lock(session)
        row = session.execute(query).scalar()
        if row is None:
            return 0
        row.status, row.claimed_by, row.claimed_at, row.attempts = "sending", worker, now, row.attempts + 1
        row_id = row.id
    with transaction(factory) as session:
        locked = lock_claimed(session, row_id=row_id, worker=worker)
        if locked is None:
            return 0
        result = deliver_one(session, locked, notifier, now=now)
        if not result.ok:
            log.warning("delivery %s not sent yet (%s): left to the scheduler", row_id, result.error)
        return 1
