"""A small triage world for tests: a directory, the real engine, a Ticker and a recording notifier.

Time is a VirtualClock; `send` stores an update through the engine at the clock's time and
`advance` runs timers and deliveries up to an instant, exactly as `siteline replay` does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.directory import upsert
from core.domain import Site
from core.notify import OutboundMessage, RecordingNotifier
from core.settings import Settings
from scheduler.runner import Ticker, run_virtual_until
from triage.decision import Decision
from triage.digest import flush_due
from triage.engine import DIGEST_TIMER
from triage.plugin import build_engine
from triage.schemas import UpdateIn

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)

SITES = [
    Site(site_id="S01", name="Paris", tz="Europe/Paris", studies=["ALPHA", "BETA"], digest_times=["08:30"],
         quiet_hours=["19:00", "07:00"]),
    Site(site_id="S02", name="Chicago", tz="America/Chicago", studies=["ALPHA"], digest_times=["09:00"],
         quiet_hours=["19:00", "07:00"]),
    Site(site_id="S03", name="Singapore", tz="Asia/Singapore", studies=["ALPHA"], digest_times=["08:30", "14:00"],
         quiet_hours=["20:00", "07:00"]),
]  # fmt: skip


class World:
    def __init__(self, factory: sessionmaker[Session], *, start: datetime = T0, sites: list[Site] | None = None):
        self.factory = factory
        self.clock = VirtualClock(start)
        self.engine = build_engine(Settings(_env_file=None))
        self.notifier = RecordingNotifier()
        self.ticker = Ticker(
            factory,
            timer_handlers={DIGEST_TIMER: lambda s, t, now: flush_due(s, t, now)},
            notifier=self.notifier,
            worker_id="test",
        )
        with transaction(factory) as session:
            upsert(session, sites if sites is not None else SITES, [])
        self.seq = 0

    def send(self, at: str | datetime, *, deliver_before: bool = True, **fields: Any) -> Decision:
        """Store an update at `at` (timers and deliveries due before it run first, as in a replay,
        unless `deliver_before` is False: then the clock just moves, nothing is sent)."""
        when = parse_instant(at) if isinstance(at, str) else at
        if deliver_before:
            self.advance(when)
        else:
            self.clock.advance_to(when)
        self.seq += 1
        data: dict[str, Any] = {"id": f"m{self.seq}", "from": "sm-1", "org": "sponsor", "study": "ALPHA",
                                "sites": "all", "body": ""} | fields  # fmt: skip
        with transaction(self.factory) as session:
            return self.engine.receive(session, UpdateIn.model_validate(data), self.clock.now(), source="test",
                                       actor="test")  # fmt: skip

    def advance(self, until: str | datetime) -> None:
        run_virtual_until(self.ticker, self.clock, parse_instant(until) if isinstance(until, str) else until)

    def out(self, kind: str | None = None, to: str | None = None) -> list[OutboundMessage]:
        return [m for m in self.notifier.sent if (kind is None or m.kind == kind) and (to is None or m.recipient == to)]


def items(message: OutboundMessage) -> list[dict[str, Any]]:
    return list(message.payload["items"])


def ids(message: OutboundMessage) -> list[str]:
    return [i["id"] for i in message.payload["items"]]
