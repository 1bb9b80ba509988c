"""Retried deliveries never produce a second answer: each platform event id is claimed once, in SQL.

Platforms redeliver an event they think was lost (Slack: `X-Slack-Retry-Num`, after ~1 and ~5
minutes). The unique (platform, event_id) row makes the first claim win on every replica and
after a restart. A claim whose worker died before finishing (still `working` after
`RECLAIM_AFTER`) may be taken over by a later retry, so a crash mid-answer is not silence.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from assistant.models import ChatEventRow

RECLAIM_AFTER = timedelta(minutes=4)
KEEP_FOR = timedelta(days=7)
PRUNE_ONE_IN = 200  # prune old rows on roughly one claim in this many (chosen by event id, not chance)


def claim(session: Session, *, platform: str, event_id: str, now: datetime) -> bool:
    """True when this caller should handle the event; False when it is (being) handled already."""
    values = dict(platform=platform, event_id=event_id, received_at=now, claimed_at=now, status="working")
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(ChatEventRow).values(**values)
        stmt = ins.on_conflict_do_nothing(index_elements=["platform", "event_id"]).returning(ChatEventRow.id)
        inserted = session.execute(stmt).first() is not None
    else:  # pragma: no cover - other dialects: the unique constraint still refuses a second insert
        exists = session.execute(
            select(ChatEventRow.id).where(ChatEventRow.platform == platform, ChatEventRow.event_id == event_id)
        ).first()
        inserted = exists is None
        if inserted:
            session.add(ChatEventRow(**values))
            session.flush()
    if inserted:
        _maybe_prune(session, event_id=event_id, now=now)
        return True
    taken = session.execute(
        update(ChatEventRow)
        .where(
            ChatEventRow.platform == platform,
            ChatEventRow.event_id == event_id,
            ChatEventRow.status == "working",
            ChatEventRow.claimed_at < now - RECLAIM_AFTER,
        )
        .values(claimed_at=now)
    )
    return bool(taken.rowcount)


def finish(session: Session, *, platform: str, event_id: str) -> None:
    """Mark the event handled: no retry will touch it again."""
    session.execute(
        update(ChatEventRow)
        .where(ChatEventRow.platform == platform, ChatEventRow.event_id == event_id)
        .values(status="done")
    )


def _maybe_prune(session: Session, *, event_id: str, now: datetime) -> None:
    """Platforms stop retrying within minutes; rows older than a week only take space."""
    if zlib.crc32(event_id.encode()) % PRUNE_ONE_IN == 0:
        session.execute(delete(ChatEventRow).where(ChatEventRow.received_at < now - KEEP_FOR))
