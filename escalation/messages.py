"""Plain-language texts for sites and recipients: who will see an issue, when, and what happens next.

Sites fear escalating because they cannot see where an issue goes; every message names the
people, the times (in the reader's own time zone) and the next step. Chat adapters may render
the structured payload instead; these texts are the platform-neutral fallback.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from core.domain import Person
from escalation.ladder import PlannedLevel

ROLE_LABELS = {
    "site_staff": "site staff",
    "cra": "CRA",
    "cra_lead": "CRA lead",
    "srm": "site relationship manager",
    "study_manager": "study manager",
    "medical_monitor": "medical monitor",
    "clinops_head": "head of clinical operations",
}
CATEGORY_LABELS = {
    "safety": "safety",
    "ip_supply": "IP / drug supply",
    "contract_budget": "contract & budget",
    "ethics_regulatory": "ethics & regulatory",
    "data_queries": "data & queries",
    "technology_access": "technology & access",
    "staffing": "staffing",
    "protocol_clarification": "protocol clarification",
    "other": "other",
}


def category_text(category: str | None, inferred: bool = False) -> str:
    """A category as a reader sees it, capitalised ("IP / drug supply (inferred by Siteline)")."""
    label = CATEGORY_LABELS.get(str(category), str(category or "other"))
    return label[:1].upper() + label[1:] + (" (inferred by Siteline)" if inferred else "")


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def person_label(person: Person | None, fallback: str = "") -> str:
    if person is None:
        return fallback or "someone"
    return f"{person.name} ({person.person_id})" if person.name else person.person_id


def duration(td: timedelta) -> str:
    """`2 h`, `30 min`, `1 day 12 h`: how long someone has to acknowledge."""
    minutes = round(td.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days > 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins:
        parts.append(f"{mins} min")
    return " ".join(parts) or "0 min"


def local(instant: datetime, tz: str) -> str:
    """`Mon 9 Mar 08:00` in `tz`."""
    t = instant.astimezone(ZoneInfo(tz))
    return f"{t:%a} {t.day} {t:%b %H:%M}"


def _who(level: PlannedLevel) -> str:
    roles = " and ".join(role_label(r) for r in level.roles)
    if not level.notices:
        return f"{roles}: nobody is registered for this role"
    names = ", ".join(person_label(n.person) for n in level.notices)
    return f"{roles}: {names}"


def _told(level: PlannedLevel, now: datetime, tz: str, *, engaged: bool) -> str:
    """When this level hears of it: now, at the start of their working hours, or later if unacknowledged."""
    if level.start is None:
        return "nobody to tell, so the ladder stops here until the directory is fixed"
    if engaged:
        if level.start <= now:
            return "told now"
        return f"told {local(level.start, tz)} your time (start of their working hours)"
    return f"told {local(level.start, tz)} your time if still unacknowledged"


def path_lines(
    plan: list[PlannedLevel], now: datetime, tz: str, *, engaged_through: int, from_level: int = 1
) -> list[str]:
    """One line per level from `from_level`: who, when they are told, how long they have.

    `engaged_through` is the highest level already told (or waiting for working hours); levels
    above it are what happens if nobody acknowledges.
    """
    lines = []
    last = plan[-1].level if plan else 0
    for level in plan:
        if level.level < from_level:
            continue
        line = f"Level {level.level}, {_who(level)}: {_told(level, now, tz, engaged=level.level <= engaged_through)}"
        if level.start is None:
            lines.append(line)
            break
        if level.deadline is not None:
            line += f"; {duration(level.deadline - level.start)} to acknowledge"
        elif level.level < engaged_through:
            line += f" (critical: levels 1 to {engaged_through} at once)"
        elif level.level == last:
            line += " (last level)"
        lines.append(line)
    return lines
