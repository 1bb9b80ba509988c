"""The append-only audit trail: who did what, when (UTC), each row chained to the one before.

A row's hash covers its content and the previous row's hash, so editing or deleting any row
breaks every hash after it; `verify` finds the first broken link. Database triggers (see the
migrations) refuse UPDATE, DELETE and (PostgreSQL) TRUNCATE outright. Deleting the newest rows
or emptying the table leaves a shorter chain that is still consistent in itself, so each append
also moves a checkpoint (`audit_head`: row count and last hash) signed with a key that is never
stored in the database; `verify` compares the chain with it.

`record` appends when the caller's transaction commits, all of its entries at once: the appender's lock
(`_locked_head`: on PostgreSQL the checkpoint row's, on SQLite the file's one write lock) is then held
for the commit alone, not from the first entry of a long unit of work (an escalation's five entries
held it for most of its raise).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, SessionTransaction

from core.clock import iso
from core.db import AUDIT_KEY_INFO
from core.models import AuditHeadRow, AuditRow
from core.settings import Settings

GENESIS = "0" * 64
KEY_FILE = "audit.key"
_PG_AUDIT_LOCK = 0x5173  # advisory lock id of earlier versions' appenders (still taken, for rolling upgrades)
_PENDING = "audit_pending"  # the Session.info entry holding this transaction's entries until it commits


class AuditTampered(RuntimeError):
    """The checkpoint is missing: appending would paper over tampering, so nothing is appended."""


def load_key(settings: Settings) -> bytes:
    """The checkpoint key: `SITELINE_AUDIT_KEY`, else a random one created once in the data folder.

    Several replicas on one database must share the setting (a per-machine file would differ). The file
    appears whole or not at all (written aside, then linked): processes starting at once on a new home
    all read the one key that was linked first, never a half-written one.
    """
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode()
    path = Path(settings.home) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            os.link(aside, path)
        except FileExistsError:  # another process linked its key first: that one is the key
            pass
        finally:
            aside.unlink(missing_ok=True)
    return path.read_text().strip().encode()


def head_mac(key: bytes, row_count: int, last_hash: str) -> str:
    """The checkpoint's signature; without the key nobody can write a valid one for a shortened chain."""
    return hmac.new(key, f"siteline-audit-head:{row_count}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def _key(session: Session) -> bytes:
    return bytes(session.info.get(AUDIT_KEY_INFO, b""))


def _digest(prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail: dict[str, Any]) -> str:
    body = json.dumps(
        {"prev": prev_hash, "at": iso(at), "actor": actor, "action": action, "subject": subject, "detail": detail},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _head(session: Session) -> AuditHeadRow | None:
    """The checkpoint as stored now (never a copy a long-lived session kept from an earlier transaction)."""
    query = select(AuditHeadRow).where(AuditHeadRow.id == 1).execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def _locked_head(session: Session) -> AuditHeadRow | None:
    """The checkpoint, read under the one appender's lock (held until the transaction ends), so two appends
    never chain to one row and `verify` sees no append between the chain and its checkpoint.

    PostgreSQL: one statement takes the advisory lock earlier versions took (an old replica in a rolling
    upgrade waits for it too) and then the checkpoint row's lock, and reads the row: every round trip made
    under the lock is a wait for everyone else's audit entries and answers. SQLite: pysqlite only begins a
    transaction at the first write, so a read before it sees a checkpoint another connection may move before
    this one writes; a write that changes nothing takes SQLite's write lock (waiting `busy_timeout`) first.
    """
    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("UPDATE audit_head SET row_count = row_count WHERE id = 1"))
        return _head(session)
    query = (
        select(AuditHeadRow)
        .where(AuditHeadRow.id == 1, func.pg_advisory_xact_lock(_PG_AUDIT_LOCK).is_not(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalar_one_or_none()


@dataclass(frozen=True)
class Entry:
    """One entry to append (`record_many`)."""

    now: datetime
    actor: str
    action: str
    subject: str = ""
    detail: dict[str, Any] | None = None


def record(
    session: Session, *, now: datetime, actor: str, action: str, subject: str = "", detail: dict[str, Any] | None = None
) -> None:
    """Append one entry with the caller's transaction: it is chained when that transaction commits (with the
    change it describes, or not at all), in the order entries were recorded."""
    session.connection()  # begun now, so the entry belongs to this transaction and ends with it
    detail = json.loads(json.dumps(detail or {}, default=str))  # as it is now, not as the caller mutates it later
    session.info.setdefault(_PENDING, []).append(Entry(now, actor, action, subject, detail))


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    entries = session.info.pop(_PENDING, None)
    if entries:
        record_many(session, entries)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back transaction's entries go with it."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def record_many(session: Session, entries: list[Entry]) -> list[AuditRow]:
    """Append entries in order inside the caller's transaction, each chained to the one before; the
    appender's lock is taken and the checkpoint moved once for all of them."""
    if not entries:
        return []
    session.flush()  # the transaction's other writes first: the appender's lock is held from here to commit
    head = _locked_head(session)
    if head is None:
        raise AuditTampered("the audit checkpoint is missing; run `siteline audit verify`")
    prev = head.last_hash  # the checkpoint names the chain's last row (both move together, signed)
    rows = []
    for e in entries:
        detail = json.loads(json.dumps(e.detail or {}, default=str))
        at = e.now.replace(microsecond=0)
        row = AuditRow(
            at=at,
            actor=e.actor,
            action=e.action,
            subject=e.subject,
            detail=detail,
            prev_hash=prev,
            hash=_digest(prev, at, e.actor, e.action, e.subject, detail),
        )
        rows.append(row)
        prev = row.hash
    session.add_all(rows)
    head.row_count += len(rows)
    head.last_hash = prev
    head.mac = head_mac(_key(session), head.row_count, prev)
    session.flush()
    return rows


@dataclass(frozen=True)
class ChainReport:
    rows: int
    ok: bool
    first_bad_id: int | None = None
    problem: str = ""


def verify(session: Session) -> ChainReport:
    """Recompute every hash in order, then compare the chain's length and end with the signed checkpoint."""
    _locked_head(session)  # no append between reading the chain and its checkpoint
    prev = GENESIS
    count = 0
    for row in session.execute(select(AuditRow).order_by(AuditRow.id)).scalars():
        count += 1
        if row.prev_hash != prev:
            return ChainReport(count, False, row.id, "previous-hash link broken (a row was removed or reordered)")
        if _digest(prev, row.at, row.actor, row.action, row.subject, row.detail) != row.hash:
            return ChainReport(count, False, row.id, "content does not match its hash (the row was edited)")
        prev = row.hash
    head = _head(session)
    if head is None:
        return ChainReport(count, False, None, "the checkpoint row is missing (audit_head was emptied)")
    if not hmac.compare_digest(head.mac, head_mac(_key(session), head.row_count, head.last_hash)):
        return ChainReport(
            count,
            False,
            None,
            "the checkpoint's signature does not match (it was rewritten, or SITELINE_AUDIT_KEY differs "
            "from the key that wrote it)",
        )
    if head.row_count != count or head.last_hash != prev:
        return ChainReport(
            count,
            False,
            None,
            f"the checkpoint records {head.row_count} rows but the chain has {count} "
            "(rows were deleted from the end, or the table was truncated)"
            if head.row_count != count
            else "the chain's last row is not the one the checkpoint records (rows were replaced)",
        )
    return ChainReport(count, True)
