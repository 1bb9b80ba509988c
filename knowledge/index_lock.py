"""One writer at a time on the embedded Chroma store, across processes, with a count of its writes.

An embedded Chroma (`PersistentClient`) is single-process by design (chroma-core/chroma#421): each
process keeps its own copy of the HNSW index in memory, applies writes to that copy and saves it over
the files on disk. Two `siteline ingest` runs writing one home at once left files that no longer
matched Chroma's id map, and every process opening them afterwards crashed in Chroma's native code.

So every write holds an exclusive `flock` on `<index>/chroma.lock` and counts itself in that file; a
process whose copy is older than the count reloads the store from disk before touching it. Reads hold
the lock shared: they never see a write half done. Each hold opens the file anew (a lock belongs to an
open file, not to a process), so threads of one process exclude each other just as processes do; a
thread must not take the lock again while it holds it. A Chroma server needs none of this.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core import flock

WAIT_SECONDS = 120.0  # longest wait for another process's write (a big document's vectors take seconds)


class IndexBusy(TimeoutError):
    """Another process held the index lock for longer than the wait allows."""


class LockUnusable(OSError):
    """The lock file cannot be opened (it is a folder, or the home is not writable): no wait will help."""


class Held:
    """The lock while held: the number of writes counted so far, and a way to count one more."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        raw = os.pread(fd, 32, 0).strip()
        self.writes = int(raw) if raw.isdigit() else 0

    def count_write(self) -> int:
        """Count one more write (only under the exclusive lock); the new count."""
        self.writes += 1
        text = str(self.writes).encode()
        os.pwrite(self._fd, text, 0)
        os.ftruncate(self._fd, len(text))
        return self.writes


class IndexLock:
    def __init__(self, path: Path, *, wait: float = WAIT_SECONDS) -> None:
        self.path = path
        self.wait = wait
        path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def exclusive(self) -> Iterator[Held]:
        with self._hold(fcntl.LOCK_EX) as held:
            yield held

    @contextmanager
    def shared(self) -> Iterator[Held]:
        with self._hold(fcntl.LOCK_SH) as held:
            yield held

    @contextmanager
    def _hold(self, operation: int) -> Iterator[Held]:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise LockUnusable(f"the index lock {self.path} cannot be opened ({exc.strerror or exc})") from exc
        try:
            if not flock.take(fd, operation, time.monotonic() + self.wait):
                raise IndexBusy(f"{self.path} stayed locked by another process for {self.wait:.0f} s")
            yield Held(fd)
        finally:
            os.close(fd)  # lets go of the lock
