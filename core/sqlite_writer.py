"""One writer at a time on a SQLite file, queued by the kernel instead of SQLite's sleeps.

SQLite lets one connection write at a time. A second writer gets SQLITE_BUSY and its busy handler
retries after sleeps that grow to 100 ms, so under many concurrent writers (asks recording their
answers, in one `serve` or in several processes on one file) a writer can sleep long after the lock
came free, and newcomers overtake it: p95 of asks over a second with two processes (measured).

`WriterLock` takes the same lock one step earlier: just before a connection's first write statement
of a transaction (the moment SQLite would take its own write lock), it takes an exclusive `flock` on
`<file>.writer`, and it lets go right after that transaction's commit or rollback (the moment SQLite
lets go of its own). The semantics are SQLite's own (nothing new is serialised), but threads of one
process queue on a thread lock (woken the moment it is free, in turn), and a process waiting for
another polls the `flock` every few milliseconds instead of SQLite's up to 100 ms. Nobody waits longer
than SQLite's busy timeout: after it, SQLite's own locking answers (an error, never a hang).

Statements that make SQLite open its implicit transaction (INSERT, UPDATE, DELETE, REPLACE) take it;
`core.db.hold_write_lock`'s `BEGIN IMMEDIATE` takes it too. DDL runs outside transactions in pysqlite
and keeps SQLite's own locking. A thread that already holds the lock and writes on a second
connection is not blocked by this lock (SQLite's busy timeout answers it, as before).
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import time
from pathlib import Path
from typing import IO, Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from core import flock
from core.metrics import SQLITE_WRITER_HOLD, SQLITE_WRITER_WAIT

WRITES = ("insert", "update", "delete", "replace")
HANDOFFS = 8  # writers of one process in a row before the file lock goes back to the kernel's queue
WAIT_SECONDS = 30.0  # SQLite's busy timeout (core.db): no writer waits longer here than it would have there


class WriterLock:
    """The file's writer lock for this process: a thread lock, then a `flock` shared with other processes.

    While threads of this process are waiting, the `flock` is passed on to them with the thread lock
    (up to `HANDOFFS` times in a row, then another process gets its turn): each `flock` call lets go of
    the GIL, and under load getting it back costs more than the write itself."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".writer")
        self._threads = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._waiting = 0  # threads of this process waiting for the thread lock
        self._counts = threading.Lock()  # guards `_waiting` (its += is not atomic between threads)
        self._handoffs = 0
        self._flocked = False
        self._file: IO[bytes] | None = None
        self._held_since = 0.0  # perf_counter() when the owner got the lock (for its hold-time metric)

    def acquire(self, timeout: float = WAIT_SECONDS) -> bool:
        """Wait for the lock; False (not taken) after `timeout` seconds, and then SQLite's own busy timeout
        decides, as it did before this lock existed: a stuck writer elsewhere is an error, never a hang."""
        me = threading.get_ident()
        if self._owner == me:  # this thread's second connection: SQLite's busy timeout decides, as before
            self._depth += 1
            return True
        asked = time.perf_counter()
        deadline = time.monotonic() + timeout
        with self._counts:
            self._waiting += 1
        try:
            got = self._threads.acquire(timeout=timeout)
        finally:
            with self._counts:
                self._waiting -= 1
        if not got:
            if self._threads.acquire(blocking=False):  # freed just now, maybe handing the file lock to us
                self._unflock()
                self._threads.release()
            return False
        try:
            if not self._flocked and not self._take_file(deadline):
                self._threads.release()
                return False
        except BaseException:
            self._threads.release()
            raise
        self._owner, self._depth = me, 1
        self._held_since = time.perf_counter()
        SQLITE_WRITER_WAIT.observe(self._held_since - asked)
        return True

    def _take_file(self, deadline: float) -> bool:
        """The `flock`, waiting for other processes with short sleeps (up to 5 ms, against SQLite's up to
        100 ms), until `deadline`."""
        if self._file is None:
            self._file = self.path.open("ab")
        if not flock.take(self._file, fcntl.LOCK_EX, deadline):
            return False
        self._flocked, self._handoffs = True, 0
        return True

    def release(self) -> None:
        """Called once per acquire, from whichever thread ends the transaction."""
        self._depth -= 1
        if self._depth > 0:
            return
        self._owner = None
        SQLITE_WRITER_HOLD.observe(time.perf_counter() - self._held_since)
        try:
            with self._counts:
                waiting = self._waiting
            if waiting and self._handoffs < HANDOFFS:
                self._handoffs += 1  # a thread of ours is next: it inherits the flock
            else:
                self._unflock()
        finally:
            self._threads.release()

    def _unflock(self) -> None:
        if self._flocked and self._file is not None:
            self._flocked = False
            fcntl.flock(self._file, fcntl.LOCK_UN)


class LockedConnection(sqlite3.Connection):
    """A pysqlite connection that lets go of the writer lock once its transaction has ended."""

    writer: WriterLock | None = None
    holding = False

    def take_writer_lock(self) -> None:
        if self.writer is not None and not self.holding:
            self.holding = self.writer.acquire()

    def _let_go(self) -> None:
        if self.holding:
            self.holding = False
            assert self.writer is not None
            self.writer.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            if not self.in_transaction:
                self._let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._let_go()


def install(engine: Engine, database: Path) -> None:
    """Make every connection of `engine` take the file's writer lock before its first write."""
    lock = WriterLock(database)

    @event.listens_for(engine, "connect")
    def _give_lock(dbapi_conn: Any, _record: Any) -> None:
        if isinstance(dbapi_conn, LockedConnection):
            dbapi_conn.writer = lock

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        raw = conn.connection.dbapi_connection
        if (
            isinstance(raw, LockedConnection)
            and not raw.holding
            and not raw.in_transaction
            and statement[:24].lstrip()[:7].lower().startswith(WRITES)
        ):
            raw.take_writer_lock()
