"""Digest slots: the site's local digest times, never in quiet hours, right across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from triage.slots import in_quiet_hours, is_slot, next_slot, usable_times


def at(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def slot(after: str, tz: str, times: list[str], quiet: list[str] | None = None) -> datetime:
    return next_slot(at(after), tz=tz, digest_times=times, quiet_hours=quiet).at


def test_next_slot_is_local_time_in_the_sites_zone() -> None:
    assert slot("2026-03-02T11:23:00Z", "Europe/Paris", ["08:30"]) == at("2026-03-03T07:30:00Z")
    assert slot("2026-03-02T11:23:00Z", "Asia/Singapore", ["08:30"]) == at("2026-03-03T00:30:00Z")
    assert slot("2026-03-02T11:23:00Z", "America/Chicago", ["09:00"]) == at("2026-03-02T15:00:00Z")
    # Two digest times: the next one today.
    assert slot("2026-03-02T09:00:00Z", "Europe/Paris", ["08:30", "14:00"]) == at("2026-03-02T13:00:00Z")
    # Strictly after: an item arriving exactly at a slot waits for the next one.
    assert slot("2026-03-03T07:30:00Z", "Europe/Paris", ["08:30"]) == at("2026-03-04T07:30:00Z")


def test_spring_forward_paris_and_new_york() -> None:
    # Paris moves to UTC+2 on 2026-03-29: 08:30 local is 07:30Z the day before and 06:30Z after.
    assert slot("2026-03-28T12:00:00Z", "Europe/Paris", ["08:30"]) == at("2026-03-29T06:30:00Z")
    # New York moves to UTC-4 on 2026-03-08.
    assert slot("2026-03-07T20:00:00Z", "America/New_York", ["09:00"]) == at("2026-03-08T13:00:00Z")
    assert slot("2026-03-06T20:00:00Z", "America/New_York", ["09:00"]) == at("2026-03-07T14:00:00Z")
    # A digest time inside the skipped hour does not exist that day: the next day's is used.
    assert slot("2026-03-28T12:00:00Z", "Europe/Paris", ["02:30"]) == at("2026-03-30T00:30:00Z")
    assert slot("2026-03-07T12:00:00Z", "America/New_York", ["02:30"]) == at("2026-03-09T06:30:00Z")


def test_fall_back_paris_and_new_york_uses_a_repeated_time_once() -> None:
    # Paris returns to UTC+1 on 2026-10-25; 01:30-02:59 local happens twice.
    first = slot("2026-10-24T12:00:00Z", "Europe/Paris", ["02:30"])
    assert first == at("2026-10-25T00:30:00Z")  # the first 02:30 (still UTC+2)
    assert slot(first.isoformat(), "Europe/Paris", ["02:30"]) == at("2026-10-26T01:30:00Z")  # not the second
    assert slot("2026-10-25T12:00:00Z", "Europe/Paris", ["08:30"]) == at("2026-10-26T07:30:00Z")
    # New York returns to UTC-5 on 2026-11-01.
    assert slot("2026-10-31T20:00:00Z", "America/New_York", ["09:00"]) == at("2026-11-01T14:00:00Z")
    first_ny = slot("2026-10-31T12:00:00Z", "America/New_York", ["01:30"])
    assert first_ny == at("2026-11-01T05:30:00Z")  # 01:30 EDT, the first of the two
    assert slot(first_ny.isoformat(), "America/New_York", ["01:30"]) == at("2026-11-02T06:30:00Z")


@pytest.mark.parametrize(
    ("local", "quiet", "expected"),
    [
        ("22:00", ["19:00", "07:00"], True),
        ("06:59", ["19:00", "07:00"], True),
        ("07:00", ["19:00", "07:00"], False),  # the end is not quiet any more
        ("18:59", ["19:00", "07:00"], False),
        ("12:30", ["12:00", "13:00"], True),  # a lunch break that does not wrap midnight
        ("13:00", ["12:00", "13:00"], False),
        ("03:00", None, False),
    ],
)
def test_quiet_hours_may_wrap_midnight(local: str, quiet: list[str] | None, expected: bool) -> None:
    from datetime import time

    assert in_quiet_hours(time.fromisoformat(local), quiet) is expected


def test_digest_times_in_quiet_hours_are_skipped() -> None:
    # 06:30 is quiet, 09:00 is not: only 09:00 is used.
    assert slot("2026-03-02T12:00:00Z", "Europe/Paris", ["06:30", "09:00"], ["19:00", "07:00"]) == at(
        "2026-03-03T08:00:00Z"
    )


def test_every_digest_time_in_quiet_hours_falls_back_to_the_end_of_quiet_hours() -> None:
    times, note = usable_times(["06:30"], ["19:00", "07:00"])
    assert [t.strftime("%H:%M") for t in times] == ["07:00"] and "quiet hours" in note
    s = next_slot(at("2026-03-02T12:00:00Z"), tz="Europe/Paris", digest_times=["06:30"], quiet_hours=["19:00", "07:00"])
    assert s.at == at("2026-03-03T06:00:00Z") and s.note  # items are never stranded


def test_is_slot_checks_a_stored_slot_against_current_preferences() -> None:
    s = at("2026-03-03T07:30:00Z")
    assert is_slot(s, tz="Europe/Paris", digest_times=["08:30"], quiet_hours=["19:00", "07:00"])
    assert not is_slot(s, tz="Europe/Paris", digest_times=["09:00"], quiet_hours=["19:00", "07:00"])
    assert not is_slot(s, tz="America/New_York", digest_times=["08:30"], quiet_hours=None)
