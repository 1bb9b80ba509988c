"""The escalation ladder in words, the same on every platform.

`describe_path` gives the facts; this says them as a site reads them (when each level is told,
how long it has, what the tier, working hours and *critical* change). Plain text: each adapter
adds its own markup (Slack escapes and bolds with `*`, Teams with `**`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.clock import parse_instant
from escalation.messages import local

CRITICAL_LABEL = "If it is critical:"
NOBODY = "_nobody is registered for this role yet_"


def level_roles(level: Mapping[str, Any]) -> str:
    return " and ".join(level.get("role_labels") or level.get("roles") or [])


def level_timing(level: Mapping[str, Any], tz: str, *, last: bool, now: datetime | None) -> str:
    """ "told at once · 4 h to acknowledge", or when the level would be told (site time) if nobody acts."""
    people = level.get("people") or []
    told = [str(p["told_at"]) for p in people if p.get("told_at")]
    when = ""
    if told:
        first = parse_instant(min(told))
        if level.get("at_once") and now is not None and first <= now:
            when = "told at once"
        else:
            prefix = "told" if level.get("at_once") else "told, if still unacknowledged,"
            when = f"{prefix} {local(first, tz)} ({tz})"
    limit = f"{level['ack_within_text']} to acknowledge" if level.get("ack_within_text") else ""
    if last and not limit:
        limit = "last level"
    return " · ".join(x for x in (when, limit) if x)


def ladder_notes(path: Mapping[str, Any], critical: Mapping[str, Any] | None) -> list[str]:
    """What changes the ladder: the site tier's time factor, working hours, and what critical would do."""
    notes: list[str] = []
    factor = path.get("timeout_factor")
    if factor and float(factor) != 1.0:
        notes.append(f"Your site is a {path.get('tier')} site: every time limit is ×{float(factor):g}.")
    wh = path.get("working_hours") or {}
    if path.get("critical"):
        notes.append("Critical issues are sent at once, day or night.")
    elif wh:
        days = list(wh.get("days") or [])
        span = f"{days[0]}–{days[-1]}" if len(days) > 1 else "".join(days)
        notes.append(
            f"Notices wait for each person's working hours ({wh.get('start')}–{wh.get('end')} {span}, their time); "
            "time limits count from when they are told."
        )
    if critical is not None and not path.get("critical"):
        at_once = [lv for lv in critical.get("levels") or [] if lv.get("at_once")]
        who = " and ".join(level_roles(lv) for lv in at_once)
        notes.append(
            f"{CRITICAL_LABEL} levels 1 to {len(at_once)} ({who}) are told at once, day or night, "
            "without waiting for working hours."
        )
    return notes
