"""One loop for live and replay: fire due timers, then deliver due outbox rows.

`serve` calls `Ticker.run(now)` from APScheduler with the wall clock; `siteline replay`
calls `run_virtual_until` with a virtual clock. Engines are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import VirtualClock
from core.db import transaction
from core.models import DeliveryRow
from core.notify import Notifier
from core.outbox import LEASE, claim_due, deliver_batch, deliver_one, lock_claimed, release, renew
from scheduler import timers
from scheduler.timers import TimerHandler


class Ticker:
    """Fires due timers, then delivers due outbox rows; safe to run in several processes at once."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        timer_handlers: Mapping[str, TimerHandler],
        notifier: Notifier,
        worker_id: str,
        claim_batch: int = 10,
        private_batch: int | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`private_batch` records up to that many sends per transaction: only for storage nobody
        else uses and a crash throws away (the replay's in-memory database); live leaves it None.
        `clock` (live) stamps claims and renews their lease as sends take time; without it, the
        `now` given to `run` stands for the whole run (replay, tests)."""
        self.factory = factory
        self.timer_handlers = dict(timer_handlers)
        self.notifier = notifier
        self.worker_id = worker_id
        self.claim_batch = claim_batch
        self.private_batch = private_batch
        self.clock = clock
        self._wakeup: Select[tuple[datetime | None, datetime | None]] | None = None  # built once

    def run(self, now: datetime) -> int:
        """Do everything due at `now`; returns the number of timers fired plus rows handled."""
        done = 0
        while True:
            with transaction(self.factory) as session:
                fired = timers.fire_due(session, now=now, handlers=self.timer_handlers)
            done += fired
            if not fired:
                break
        if self.private_batch:
            return done + self._deliver_private(now)
        while True:
            stamp = self.clock() if self.clock else now
            with transaction(self.factory) as session:
                ids = [r.id for r in claim_due(session, now=stamp, worker=self.worker_id, limit=self.claim_batch)]
            if not ids:
                break
            for n, row_id in enumerate(ids):
                # One row per transaction, sent while its lock is held: a crash repeats at most the
                # one message in flight; rows claimed but not reached are reclaimed when the lease
                # runs out, which the heartbeat keeps from happening while this worker lives.
                if self.clock and self.clock() - stamp > LEASE / 3:
                    stamp = self.clock()
                    with transaction(self.factory) as session:
                        renew(session, row_ids=ids[n:], worker=self.worker_id, now=stamp)
                with transaction(self.factory) as session:
                    row = lock_claimed(session, row_id=row_id, worker=self.worker_id)
                    if row is None:
                        continue
                    result = deliver_one(session, row, self.notifier, now=now)
                done += 1
                if result.retry_after is not None:
                    # The platform asked us to slow down: hold the rest of this batch as long.
                    with transaction(self.factory) as session:
                        release(
                            session,
                            row_ids=ids[n + 1 :],
                            worker=self.worker_id,
                            due_at=now + timedelta(seconds=result.retry_after),
                        )
                    return done
        return done

    def _deliver_private(self, now: datetime) -> int:
        done = 0
        assert self.private_batch
        while True:
            with transaction(self.factory) as session:
                results = deliver_batch(session, self.notifier, now=now, limit=self.private_batch)
            done += len(results)
            if not results or results[-1].retry_after is not None:
                return done

    def next_wakeup(self) -> datetime | None:
        """The earliest instant at which anything is due (a timer this Ticker fires, or a delivery)."""
        if self._wakeup is None:
            pending = select(func.min(DeliveryRow.due_at)).where(DeliveryRow.status == "pending")
            self._wakeup = select(
                timers.next_due_query(self.timer_handlers).scalar_subquery(), pending.scalar_subquery()
            )
        with transaction(self.factory) as session:
            t, d = session.execute(self._wakeup).one()
        candidates = [x if x.tzinfo else x.replace(tzinfo=UTC) for x in (t, d) if x is not None]
        return min(candidates) if candidates else None


def run_virtual_until(ticker: Ticker, clock: VirtualClock, until: datetime) -> None:
    """Advance the virtual clock to `until`, stopping at every instant something is due
    (everything due at or before `until` has run when this returns)."""
    while True:
        wake = ticker.next_wakeup()
        if wake is None or wake > until:
            break
        clock.advance_to(max(wake, clock.now()))
        ticker.run(clock.now())
    clock.advance_to(until)
