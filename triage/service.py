"""Triage's entry points for people: the CLI, the HTTP API and the Slack modal call these.

`preview` shows the decision Siteline would make without storing anything; `submit` stores it
(idempotent by update id); `set_preferences` changes when a site hears from Siteline; `stats`
reports noise, interruptions and urgent latency. Time comes from the injected clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core import audit
from core.clock import Clock, iso
from core.db import transaction
from core.domain import PreferencesError, validate_preferences
from core.models import SiteRow
from core.settings import Settings
from triage import queries, stats
from triage.audience import check_origin
from triage.decision import Decision
from triage.digest import rearm
from triage.engine import TriageEngine
from triage.plugin import build_engine
from triage.schemas import UpdateIn
from triage.slots import next_slot
from triage.states import lock_states


class SiteNotFound(PreferencesError):
    """Preferences asked for a site the directory does not have (a 404, not a bad value)."""

    def __init__(self, site_id: str) -> None:
        super().__init__("site", f"site {site_id!r} is not in the directory")


@dataclass(frozen=True)
class Preferences:
    site_id: str
    tz: str
    digest_times: list[str]
    quiet_hours: list[str] | None
    next_digest_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "site": self.site_id,
            "tz": self.tz,
            "digest_times": self.digest_times,
            "quiet_hours": self.quiet_hours,
            "next_digest_at": iso(self.next_digest_at) if self.next_digest_at else None,
        }


class _HasParts(Protocol):
    factory: sessionmaker[Session]
    settings: Settings
    clock: Clock


class TriageService:
    @classmethod
    def of(cls, container: _HasParts) -> TriageService:
        """The service over a composition root's storage, settings and clock (siteline's Container)."""
        return cls(container.factory, container.settings, container.clock)

    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, clock: Clock, engine: TriageEngine | None = None
    ) -> None:
        self.factory = factory
        self.clock = clock
        self.engine = engine or build_engine(settings)

    def preview(self, update: UpdateIn) -> Decision:
        """The decision Siteline would make now (priority, reason, per-site outcome and merge
        target), without storing anything. Raises UpdateRejected for sites it cannot address."""
        session = self.factory()
        try:
            if session.execute(queries.UPDATE_EXISTS, {"uid": update.id}).first():
                return self.engine.stored_decision(session, update.id)
            return self.engine.plan(session, update, self.clock.now()).decision()
        finally:
            session.rollback()
            session.close()

    def check_origin(self, update: UpdateIn) -> None:
        """UpdateRejected unless the sender is in the directory and some site is on the study."""
        with transaction(self.factory) as session:
            check_origin(session, study=update.study, sender=update.sender)

    def submit(self, update: UpdateIn, *, actor: str, source: str) -> Decision:
        """Triage and store the update; urgent items are queued for delivery at once."""
        try:
            with transaction(self.factory) as session:
                return self.engine.receive(session, update, self.clock.now(), source=source, actor=actor)
        except IntegrityError:
            # The same id submitted twice at the same moment: the other one stored it first.
            with transaction(self.factory) as session:
                return self.engine.stored_decision(session, update.id)

    def preferences(self, site_id: str) -> Preferences:
        with transaction(self.factory) as session:
            return self._preferences(session, site_id)

    def set_preferences(
        self, site_id: str, *, digest_times: list[str], quiet_hours: list[str] | None, actor: str
    ) -> Preferences:
        """Change when a site gets digests; a slot already waiting moves to the new schedule."""
        times, quiet = validate_preferences(digest_times, quiet_hours)
        now = self.clock.now()
        with transaction(self.factory) as session:
            site = session.get(SiteRow, site_id)
            if site is None:
                raise SiteNotFound(site_id)
            before = {"digest_times": site.digest_times, "quiet_hours": site.quiet_hours}
            site.digest_times, site.quiet_hours = times, quiet
            session.flush()
            if lock_states(session, [site_id], lock=True).get(site_id) is not None:
                slot = next_slot(now, tz=site.tz, digest_times=times, quiet_hours=quiet)
                rearm(session, site_id, slot.at, "preferences changed")
            audit.record(
                session,
                now=now,
                actor=actor,
                action="triage.preferences",
                subject=site_id,
                detail={"before": before, "after": {"digest_times": times, "quiet_hours": quiet}},
            )
            return self._preferences(session, site_id)

    def stats(self, *, days: float = 30, studies: list[str] | None = None) -> stats.StatsReport:
        with transaction(self.factory) as session:
            return stats.build(
                session, now=self.clock.now(), days=days, classifier=self.engine.classifier, studies=studies
            )

    def _preferences(self, session: Session, site_id: str) -> Preferences:
        site = session.get(SiteRow, site_id)
        if site is None:
            raise SiteNotFound(site_id)
        pending = lock_states(session, [site_id], lock=False).get(site_id)
        return Preferences(site_id, site.tz, list(site.digest_times or []), site.quiet_hours, pending)
