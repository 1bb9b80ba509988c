"""Time is passed in: a live clock for `serve`, a virtual one for replay and tests.

Engines take a `Clock` (or a `now` argument) and never call `datetime.now()` themselves, so
timers can be tested without sleeping and a month of traffic replays in seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """Wall-clock time for the live service."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to; used by `siteline replay` and tests."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, when: datetime) -> None:
        when = as_utc(when)
        if when < self._now:
            raise ValueError(f"virtual clock cannot go back from {self._now.isoformat()} to {when.isoformat()}")
        self._now = when


def as_utc(value: datetime) -> datetime:
    """Refuse naive datetimes (their zone is a guess) and normalise to UTC."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
    return value.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse ISO 8601 with an offset or `Z` into an aware UTC datetime."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


def iso(value: datetime) -> str:
    """UTC ISO 8601 with a `Z`, the form every output of Siteline uses."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
