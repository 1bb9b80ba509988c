"""The ladder an escalation climbs: its policy snapshot, who each level is, when each is told.

Pure functions over a `Snapshot` (the chain resolved for one escalation's category, severity and
site tier at raise time). The engine applies them step by step; `project` runs them ahead to
explain the path to a site before anything happens. The timing rules are the replay contract's:
level 1 (or 1..N for `notify_through_level`) at once, non-critical notices wait for each
recipient's working hours, a level's clock starts at its first notice, and after
`ack_within × timeout_factor` without an acknowledgement the next level is told.

Timeouts run on a wall clock, as the contract's reference scorer computes them: the clock of
the zone in which the level started (the first recipient's zone when the level waited for their
working hours; the zone of the instant it started from otherwise, UTC for a raise). So "24 h
from Friday 08:00 Paris" is Saturday 08:00 Paris even across a DST change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from core.directory import Directory
from core.domain import Person
from escalation.hours import working_start
from escalation.policy import RoutingPolicy, WorkingHours


class LevelSnapshot(BaseModel):
    role: str
    ack_within: str | None = None  # as written in the policy
    timeout_s: float | None = None  # after the tier's timeout factor; None on the last level


class Snapshot(BaseModel):
    """What an escalation keeps of the policy it started with; a later policy edit does not touch it."""

    policy_version: int | None
    category: str
    severity: str
    tier: str
    critical: bool
    timeout_factor: float
    also_notify_at_level_1: list[str]
    notify_through_level: int
    levels: list[LevelSnapshot]
    working_hours: WorkingHours

    def roles(self, level: int) -> list[str]:
        roles = [self.levels[level - 1].role]
        if level == 1:
            roles += [r for r in self.also_notify_at_level_1 if r not in roles]
        return roles

    def timeout(self, level: int) -> timedelta | None:
        if level >= len(self.levels):
            return None
        seconds = self.levels[level - 1].timeout_s
        return timedelta(seconds=seconds) if seconds is not None else None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def build_snapshot(policy: RoutingPolicy, *, version: int | None, category: str, severity: str, tier: str) -> Snapshot:
    chain = policy.chain(category)
    override = policy.tier(tier)
    levels = []
    for i, level in enumerate(chain, start=1):
        timeout = level.timeout if i < len(chain) else None
        levels.append(
            LevelSnapshot(
                role=level.role,
                ack_within=level.ack_within,
                timeout_s=(timeout * override.timeout_factor).total_seconds() if timeout else None,
            )
        )
    return Snapshot(
        policy_version=version,
        category=category,
        severity=severity,
        tier=tier,
        critical=severity == "critical",
        timeout_factor=override.timeout_factor,
        also_notify_at_level_1=list(override.also_notify_at_level_1),
        notify_through_level=policy.through_level(severity, len(chain)),
        levels=levels,
        working_hours=policy.working_hours,
    )


RAISE_ZONE = "UTC"


@dataclass(frozen=True)
class Notice:
    person: Person
    role: str
    due: datetime
    zone: str  # the wall clock this notice's instant is read on (see the module docstring)


def first(told: list[Notice]) -> Notice | None:
    """The level's first notice (the earliest; on a tie the first recipient by id): its clock starts."""
    return min(told, key=lambda n: n.due) if told else None


def deadline_after(start: datetime, zone: str, timeout: timedelta) -> datetime:
    """`start + timeout` on the wall clock of `zone`, as a UTC instant."""
    return (start.astimezone(ZoneInfo(zone)) + timeout).astimezone(UTC)


Recipients = Callable[[int], list[tuple[Person, str]]]


def directory_recipients(directory: Directory, snapshot: Snapshot, *, site: str, study: str) -> Recipients:
    """People for each level, by the contract's scoping rule; a person holding two roles is told once."""

    def at(level: int) -> list[tuple[Person, str]]:
        seen: dict[str, tuple[Person, str]] = {}
        for role in snapshot.roles(level):
            for person in directory.recipients(role, site=site, study=study):
                seen.setdefault(person.person_id, (person, role))
        return [seen[k] for k in sorted(seen)]

    return at


def notices(
    snapshot: Snapshot, people: list[tuple[Person, str]], when: datetime, zone: str = RAISE_ZONE
) -> list[Notice]:
    """When each person is told: at once if critical, else at their next working hours."""
    out = []
    for person, role in people:
        due = when if snapshot.critical else working_start(when, person.tz, snapshot.working_hours)
        out.append(Notice(person, role, due, zone if due == when else person.tz))
    return out


@dataclass(frozen=True)
class PlannedLevel:
    level: int
    roles: list[str]
    notices: list[Notice]
    start: datetime | None  # first notice; None when nobody holds the role
    deadline: datetime | None  # hand-on instant if unacknowledged; None on the last level
    zone: str = RAISE_ZONE  # the wall clock of the level's timeout


def project(
    snapshot: Snapshot, recipients: Recipients, raised_at: datetime, zone: str = RAISE_ZONE
) -> list[PlannedLevel]:
    """The whole path if nobody acknowledges: what the engine will do, level by level."""
    plan: list[PlannedLevel] = []
    through = snapshot.notify_through_level
    for level in range(1, through + 1):
        plan.append(_level(snapshot, recipients, level, raised_at, zone))
    level = through
    while True:
        current = plan[-1]
        timeout = snapshot.timeout(level)
        if current.start is None or timeout is None:
            break
        deadline = deadline_after(current.start, current.zone, timeout)
        plan[-1] = PlannedLevel(current.level, current.roles, current.notices, current.start, deadline, current.zone)
        level += 1
        plan.append(_level(snapshot, recipients, level, deadline, current.zone))
    return plan


def _level(snapshot: Snapshot, recipients: Recipients, level: int, when: datetime, zone: str) -> PlannedLevel:
    told = notices(snapshot, recipients(level), when, zone)
    head = first(told)
    return PlannedLevel(
        level, snapshot.roles(level), told, head.due if head else None, None, head.zone if head else zone
    )
