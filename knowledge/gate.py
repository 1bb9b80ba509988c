"""A first-come, first-served gate: at most N callers inside at once, the rest wait in arrival order.

Why: an ask is mostly Python (holding the GIL) with native stretches (ONNX, Chroma) between. Twenty
asks let in at once on two cores all take turns at the GIL and the CPU, so each one's time stretches
to the slowest and the order of finishing is a lottery: the tail (p95) grows with the crowd. Letting
in about as many as there are cores, in arrival order, keeps each ask's CPU time short and turns the
rest into a fair queue, which is what the tail latency of a closed loop of clients is made of.
The price: threads serving other requests (updates, escalations) then get more of the GIL than the
queued asks, so in a mixed load asks slow down; hence `SITELINE_ASK_CONCURRENCY` is off by default.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class FairGate:
    """At most `slots` holders at once; a leaving holder hands its slot to the longest waiter."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"a gate needs at least one slot, not {slots}")
        self.slots = slots
        self._free = slots
        self._waiting: deque[threading.Lock] = deque()
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """How many callers are queued for a slot now."""
        return len(self._waiting)

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                turn = None
            else:
                turn = threading.Lock()
                turn.acquire()
                self._waiting.append(turn)
        if turn is not None:
            turn.acquire()  # released by the holder that hands its slot over
        try:
            yield
        finally:
            with self._lock:
                if self._waiting:
                    self._waiting.popleft().release()
                else:
                    self._free += 1
