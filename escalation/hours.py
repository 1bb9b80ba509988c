"""Working hours in the recipient's own time zone (weekends and DST included).

A non-critical notice waits for the start of the recipient's next working window; the arithmetic
is done on local wall-clock dates with `zoneinfo`, so 08:00 stays 08:00 across a DST change.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from escalation.policy import DAYS, WorkingHours

_HORIZON_DAYS = 15


def working_start(instant: datetime, tz: str, hours: WorkingHours) -> datetime:
    """`instant` itself when inside the window, else the next window's start (UTC)."""
    zone = ZoneInfo(tz)
    local = instant.astimezone(zone)
    start, end = time.fromisoformat(hours.start), time.fromisoformat(hours.end)
    days = set(hours.days)
    for k in range(_HORIZON_DAYS):
        day = (local + timedelta(days=k)).date()
        if DAYS[day.weekday()] not in days:
            continue
        opens = datetime.combine(day, start, tzinfo=zone)
        closes = datetime.combine(day, end, tzinfo=zone)
        if local < opens:
            return opens.astimezone(UTC)
        if local < closes:
            return instant.astimezone(UTC)
    raise ValueError(f"no working hours within {_HORIZON_DAYS} days for {hours.days}")


def in_working_hours(instant: datetime, tz: str, hours: WorkingHours) -> bool:
    return working_start(instant, tz, hours) == instant.astimezone(UTC)
