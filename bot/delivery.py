"""Send the outbox rows a chat action just queued, now, instead of at the next scheduler tick.

A CRA should see an Ask-my-CRA DM seconds after the click, not up to a tick later. The rows
are still claimed the outbox's way (pending → sending by this worker, SKIP LOCKED on
PostgreSQL, sent under the row lock), so the scheduler and this never send the same row twice; anything not sent here
(claimed elsewhere, failed, retried later) is left to the scheduler.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.models import DeliveryRow
from core.notify import Notifier
from core.outbox import deliver_one, lock_claimed

log = logging.getLogger("siteline.bot.delivery")


def send_now(factory: sessionmaker[Session], notifier: Notifier, keys: Iterable[str], *, now: datetime) -> int:
    """Deliver each pending row with one of `keys`; returns how many were handed to the notifier."""
    worker = f"chat-{os.getpid()}"
    sent = 0
    for key in keys:
        with transaction(factory) as session:
            query = select(DeliveryRow).where(
                DeliveryRow.dedupe_key == key, DeliveryRow.status == "pending", DeliveryRow.due_at <= now
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = session.execute(query).scalar()
            if row is None:
                continue
            row.status, row.claimed_by, row.claimed_at, row.attempts = "sending", worker, now, row.attempts + 1
            row_id = row.id
        with transaction(factory) as session:
            locked = lock_claimed(session, row_id=row_id, worker=worker)
            if locked is None:
                continue
            result = deliver_one(session, locked, notifier, now=now)
            if not result.ok:
                log.warning("delivery %s not sent yet (%s): left to the scheduler", row_id, result.error)
            sent += 1
    return sent
