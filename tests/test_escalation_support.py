"""A small escalation world shared by the escalation tests (no tests here).

Three sites (strategic Paris, preferred Chicago, standard Singapore), one study, every sponsor
role in its own time zone; a virtual clock, a recording notifier and the real Ticker with the
escalation engine's timer handlers, so tests drive time without sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.directory import parse_entries, upsert
from core.models import AuditRow, DeliveryRow
from core.notify import OutboundMessage, RecordingNotifier
from core.settings import Settings
from escalation.plugin import plugin
from scheduler.runner import Ticker, run_virtual_until

SITES: list[dict[str, Any]] = [
    {"site_id": "S01", "name": "Hôpital Nord", "tz": "Europe/Paris", "tier": "strategic", "studies": ["ALPHA"]},
    {"site_id": "S02", "name": "Lakeside Clinic", "tz": "America/Chicago", "tier": "preferred", "studies": ["ALPHA"]},
    {"site_id": "S03", "name": "Marina Research", "tz": "Asia/Singapore", "tier": "standard", "studies": ["ALPHA"]},
    {"site_id": "S04", "name": "No CRA Site", "tz": "Europe/Berlin", "tier": "standard", "studies": ["ALPHA"]},
]
PEOPLE: list[dict[str, Any]] = [
    {
        "person_id": "staff1",
        "name": "Sam Site",
        "role": "site_staff",
        "tz": "Europe/Paris",
        "sites": ["S01"],
        "studies": ["ALPHA"],
    },
    {"person_id": "staff2", "role": "site_staff", "tz": "America/Chicago", "sites": ["S02"], "studies": ["ALPHA"]},
    {"person_id": "staff3", "role": "site_staff", "tz": "Asia/Singapore", "sites": ["S03"], "studies": ["ALPHA"]},
    {"person_id": "staff4", "role": "site_staff", "tz": "Europe/Berlin", "sites": ["S04"], "studies": ["ALPHA"]},
    {
        "person_id": "cra1",
        "name": "Claire CRA",
        "role": "cra",
        "tz": "Europe/Paris",
        "sites": ["S01", "S02", "S03"],
        "studies": ["ALPHA"],
    },
    {
        "person_id": "srm1",
        "name": "Rita SRM",
        "role": "srm",
        "tz": "Europe/Paris",
        "sites": ["S01", "S02", "S03"],
        "studies": ["ALPHA"],
    },
    {"person_id": "lead1", "role": "cra_lead", "tz": "Europe/Zurich", "sites": [], "studies": ["ALPHA"]},
    {
        "person_id": "sm1",
        "name": "Stefan SM",
        "role": "study_manager",
        "tz": "Europe/Zurich",
        "sites": [],
        "studies": ["ALPHA"],
    },
    {
        "person_id": "mm1",
        "name": "Mona MM",
        "role": "medical_monitor",
        "tz": "Europe/Zurich",
        "sites": [],
        "studies": ["ALPHA"],
    },
    {
        "person_id": "head1",
        "name": "Hank Head",
        "role": "clinops_head",
        "tz": "America/New_York",
        "sites": [],
        "studies": [],
    },
]


def seed(factory: sessionmaker[Session]) -> None:
    entries = [(s["site_id"], {"type": "site", **s}) for s in SITES]
    entries += [(p["person_id"], {"type": "person", **p}) for p in PEOPLE]
    sites, persons = parse_entries(entries)
    with transaction(factory) as session:
        upsert(session, sites, persons)


class World:
    """The engine under a virtual clock: `at(...)` moves time (firing timers, delivering rows)."""

    def __init__(self, factory: sessionmaker[Session], start: str, settings: Settings | None = None) -> None:
        self.factory = factory
        self.settings = settings or Settings(_env_file=None)
        self.clock = VirtualClock(parse_instant(start))
        self.notifier = RecordingNotifier()
        self.plugin = plugin(self.settings)
        self.ticker = Ticker(
            factory, timer_handlers=self.plugin.timer_handlers, notifier=self.notifier, worker_id="test"
        )
        seed(factory)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with transaction(self.factory) as session:
            yield session

    def at(self, when: str) -> None:
        run_virtual_until(self.ticker, self.clock, parse_instant(when))

    def line(self, kind: str, **data: Any) -> None:
        """Apply one input line now, as the replay does."""
        body = self.plugin.line_models[kind].model_validate(data).model_dump(by_alias=True)
        with self.session() as session:
            self.plugin.line_handlers[kind](session, body, self.now)
        self.ticker.run(self.now)

    def sent(self, *, kind: str | None = None, to: str | None = None, esc: str | None = None) -> list[OutboundMessage]:
        return [
            m
            for m in self.notifier.sent
            if (kind is None or m.kind == kind)
            and (to is None or m.recipient == to)
            and (esc is None or (m.payload.get("escalation") or {}).get("id") == esc)
        ]

    def notices(self, esc: str) -> list[tuple[int, str]]:
        """(level, person) of every escalation notice delivered, in order."""
        return [(m.payload["escalation"]["level"], m.recipient) for m in self.sent(kind="escalation", esc=esc)]

    def delivery_statuses(self, prefix: str) -> dict[str, str]:
        with self.session() as session:
            rows = session.execute(select(DeliveryRow).where(DeliveryRow.dedupe_key.like(f"{prefix}%"))).scalars()
            return {r.dedupe_key: r.status for r in rows}

    def audit_actions(self, subject: str) -> list[str]:
        with self.session() as session:
            rows = session.execute(select(AuditRow.action).where(AuditRow.subject == subject).order_by(AuditRow.id))
            return [r[0] for r in rows]

    def count(self, model: Any) -> int:
        with self.session() as session:
            return int(session.execute(select(func.count()).select_from(model)).scalar() or 0)
