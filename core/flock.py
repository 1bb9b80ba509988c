"""Taking an `flock` with a deadline: a stuck holder elsewhere becomes an answer (False), never a hang.

A blocking `flock` cannot time out, so the lock is tried without blocking and retried after short sleeps
(0.5 ms doubling to 5 ms): a waiter gets it within milliseconds of its release, at the cost of a few
hundred wake-ups a second while it waits.
"""

from __future__ import annotations

import fcntl
import time
from typing import IO

FIRST_PAUSE = 0.0005
LAST_PAUSE = 0.005


def take(file: int | IO[bytes], operation: int, deadline: float) -> bool:
    """Take `operation` (fcntl.LOCK_EX or LOCK_SH) on the open file, waiting until `deadline`
    (a time.monotonic() value); False if it was still held elsewhere then."""
    pause = FIRST_PAUSE
    while True:
        try:
            fcntl.flock(file, operation | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, LAST_PAUSE)
            continue
        return True
