"""When a site's next digest goes out: its `digest_times`, in its own time zone, never in quiet hours.

Slots are wall-clock times in the site's zone (zoneinfo), so they follow DST: 08:30 in Paris is
07:30Z in winter and 06:30Z in summer. A slot that does not exist on a day (inside the
spring-forward gap) is skipped that day; a slot that exists twice (the fall-back hour) is used
once, at its first occurrence. If every digest time falls inside quiet hours the site would never
hear anything, so the end of its quiet hours is used instead and the slot says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.domain import in_quiet_hours as in_quiet_hours  # the one rule, re-exported for triage

SEARCH_DAYS = 9  # covers a week plus both DST edges


@dataclass(frozen=True)
class Slot:
    at: datetime  # aware UTC
    note: str = ""  # why this slot, when it is not simply one of the digest times


def usable_times(digest_times: list[str], quiet_hours: list[str] | None) -> tuple[list[time], str]:
    """The digest times outside quiet hours (sorted, unique), or the fallback and why."""
    times = sorted({time.fromisoformat(t) for t in digest_times})
    usable = [t for t in times if not in_quiet_hours(t, quiet_hours)]
    if usable:
        return usable, ""
    if quiet_hours:
        end = time.fromisoformat(quiet_hours[1])
        return [end], f"every digest time falls in quiet hours; sent when they end ({end.strftime('%H:%M')})"
    return [time(9, 0)], "no digest times set; sent at 09:00"


def _exists(local: datetime, zone: ZoneInfo) -> bool:
    """False for wall times skipped by a spring-forward change (they do not round-trip)."""
    back = local.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def next_slot(after: datetime, *, tz: str, digest_times: list[str], quiet_hours: list[str] | None) -> Slot:
    """The first digest slot strictly after `after` (aware), as an aware UTC instant."""
    zone = ZoneInfo(tz)
    times, note = usable_times(digest_times, quiet_hours)
    local_after = after.astimezone(zone)
    start_day = local_after.date() - timedelta(days=1)
    for offset in range(SEARCH_DAYS):
        day = start_day + timedelta(days=offset)
        for t in times:
            local = datetime.combine(day, t, tzinfo=zone)  # fold=0: the first of a repeated hour
            if not _exists(local, zone):
                continue
            instant = local.astimezone(UTC)
            if instant > after:
                return Slot(instant, note)
    raise AssertionError(f"no digest slot found within {SEARCH_DAYS} days for tz {tz}")  # unreachable


def is_slot(instant: datetime, *, tz: str, digest_times: list[str], quiet_hours: list[str] | None) -> bool:
    """Whether `instant` is one of the site's current slots (a stale timer checks this before flushing)."""
    zone = ZoneInfo(tz)
    times, _ = usable_times(digest_times, quiet_hours)
    local = instant.astimezone(zone)
    return any(
        _exists(datetime.combine(local.date(), t, tzinfo=zone), zone)
        and abs(datetime.combine(local.date(), t, tzinfo=zone).astimezone(UTC) - instant) < timedelta(seconds=1)
        for t in times
    )
