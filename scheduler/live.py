"""The live loop of `siteline serve`: APScheduler calls the same `Ticker.run` as the replay, on the wall clock.

Every `tick_seconds` the leader fires due timers and delivers due outbox rows through the live
Notifier (the chat adapters' router; with no platform configured it holds every delivery as
`blocked` until one is, and only `SITELINE_DELIVERY_DRY_RUN=true` logs and drops them). A process
that starts leading first makes blocked rows pending again, so a fixed configuration sends them.
One process per database leads (PostgreSQL: a
session-level advisory lock on a dedicated connection; SQLite: a file lock beside the database); the
others stay followers and try again each tick, so a leader that dies is replaced within a tick.
Correctness never depends on the lock: timers and outbox rows are claimed with `FOR UPDATE SKIP
LOCKED` (SQLite: under the file's write lock), so even two leaders would never send the same row
twice. The lock only saves the followers' work.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from core.db import sqlite_file, transaction
from core.notify import Notifier
from core.outbox import reclaim_from_others, unblock
from scheduler.plugins import EnginePlugin, load_plugins, timer_handlers
from scheduler.runner import Ticker

if TYPE_CHECKING:
    from fastapi import FastAPI

    from siteline.container import Container

log = logging.getLogger("siteline.scheduler")

LEADER_LOCK_KEY = 0x517E114E  # pg advisory lock class: "the scheduler leader" (with the schema, below)


_TRY_LOCK = text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))")
_UNLOCK = text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))")


class LeaderLock:
    """Leadership among `serve` processes sharing a database.

    PostgreSQL: a session-level advisory lock on a dedicated connection. SQLite: an exclusive `flock` on a
    file beside the database (`<file>.leader`), which the kernel lets go when the process ends, kill -9
    included; an in-memory database belongs to one process, which always leads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file: IO[bytes] | None = None
        database = sqlite_file(engine)
        self._path = database.with_name(database.name + ".leader") if database else None

    @property
    def held(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            return self._conn is not None
        return self._path is None or self._file is not None

    def acquire(self) -> bool:
        """True if this process leads now (keeps the lock it holds; tries to take it otherwise)."""
        if self.engine.dialect.name != "postgresql":
            return self._acquire_file()
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                self._conn.commit()
                return True
            except DBAPIError:
                log.warning("lost the scheduler leader connection; trying to lead again")
                self._drop()
        conn = None
        try:
            conn = self.engine.connect()
            # One leader per database *and schema*: deployments (or test runs) sharing a server in
            # separate schemas each elect their own.
            got = bool(conn.execute(_TRY_LOCK, {"k": LEADER_LOCK_KEY}).scalar())
            conn.commit()  # the lock is session-level: it outlives this transaction
        except DBAPIError:
            log.warning("could not reach the database to take the scheduler lead; retrying next tick")
            if conn is not None:
                conn.close()
            return False
        if not got:
            conn.close()
            return False
        log.info("this process now leads the scheduler")
        self._conn = conn
        return True

    def _acquire_file(self) -> bool:
        if self._path is None or self._file is not None:
            return True
        handle = self._path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process leads
            handle.close()
            return False
        log.info("this process now leads the scheduler")
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is None:
            return
        try:
            self._conn.execute(_UNLOCK, {"k": LEADER_LOCK_KEY})
            self._conn.commit()
        except DBAPIError:
            pass  # the connection is gone, and the lock with it
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never hand a connection holding the lock back to the pool
                self._conn.close()
            except DBAPIError:
                pass
        self._conn = None


def live_notifier(container: Container) -> Notifier:
    """The process's Notifier (the chat channels' router, or the dry run's logger), from the container."""
    return container.notifier


class LiveScheduler:
    def __init__(
        self,
        container: Container,
        *,
        notifier: Notifier | None = None,
        plugins: list[EnginePlugin] | None = None,
        worker_id: str | None = None,
    ) -> None:
        self.container = container
        plugins = load_plugins(container.settings) if plugins is None else plugins
        self.ticker = Ticker(
            container.factory,
            timer_handlers=timer_handlers(plugins),
            notifier=notifier or live_notifier(container),
            worker_id=worker_id or f"{socket.gethostname()}:{os.getpid()}",
            clock=container.clock.now,
        )
        self.lock = LeaderLock(container.engine)
        self._scheduler: BackgroundScheduler | None = None
        self._unblocked = False
        self._leading = False

    def tick(self) -> int | None:
        """One round at the clock's now: the number of timers and rows handled, None when a follower."""
        if not self.lock.acquire():
            self._leading = False
            return None
        try:
            if not self._unblocked:  # once per process: this notifier may work where the last did not
                with transaction(self.container.factory) as session:
                    held = unblock(session)
                if held:
                    log.info("%s held deliveries are due again", held)
                self._unblocked = True
            if not self._leading:  # just took over: what a dead leader had claimed is due now, not in 5 min
                with transaction(self.container.factory) as session:
                    reclaim_from_others(session, worker=self.ticker.worker_id)
                self._leading = True
            return self.ticker.run(self.container.clock.now())
        except Exception:  # the loop's boundary: log once, the rows stay due for the next tick
            log.exception("scheduler tick failed; everything due stays due for the next tick")
            return 0

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def start(self) -> Callable[[], None]:
        """Start ticking in a background thread; returns the function that stops it."""
        # APScheduler logs every run at INFO; a tick every few seconds would drown the service log.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.container.settings.tick_seconds,
            id="siteline-tick",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
        )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started: a tick every %ss", self.container.settings.tick_seconds)
        return self.stop

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        self.lock.release()


def mount(app: FastAPI, container: Container) -> None:
    """Start the scheduler with the app (unless SITELINE_RUN_SCHEDULER is off), stop it with the app."""
    if not container.settings.run_scheduler:
        log.info("SITELINE_RUN_SCHEDULER is off: this process serves requests only")
        return

    def start() -> Callable[[], None]:
        live = LiveScheduler(container)
        app.state.scheduler = live
        return live.start()

    app.state.on_start.append(start)
