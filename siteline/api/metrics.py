"""`GET /metrics`: Prometheus text format, for scraping each replica.

Process figures (request latency per route, asks answered/abstained) come from `core/metrics.py`.
Queue figures (outbox backlog and its oldest due row, failed deliveries, open escalations per
level) are read from the shared database at scrape time, so every replica reports the same
cluster-wide values: aggregate them with `max`, not `sum`. The leader flag is this process's own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from core.metrics import ASKS, REQUEST_SECONDS, REQUESTS, SQLITE_WRITER_HOLD, SQLITE_WRITER_WAIT
from core.models import DeliveryRow
from siteline.api.auth import bearer_matches

if TYPE_CHECKING:
    from fastapi import FastAPI

    from siteline.container import Container

log = logging.getLogger("siteline.metrics")
router = APIRouter()


class QueueCollector(Collector):
    """Outbox and escalation figures, one short read-only query each, at scrape time."""

    def __init__(self, container: Container) -> None:
        self.container = container

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("siteline_database_up", "1 when the last scrape could read the database.")
        try:
            families = self._read()
        except Exception as exc:  # the scrape must still answer, saying the database is unreadable
            log.warning("metrics: cannot read the database (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[GaugeMetricFamily]:
        now = self.container.clock.now()
        with self.container.factory() as session:
            due, oldest = session.execute(
                select(func.count(), func.min(DeliveryRow.due_at)).where(
                    DeliveryRow.status == "pending", DeliveryRow.due_at <= now
                )
            ).one()
            by_status = dict(
                session.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)).all()
            )
            levels = _open_escalations(session)
        backlog = GaugeMetricFamily("siteline_outbox_backlog", "Deliveries due now and not yet sent.")
        backlog.add_metric([], due)
        age = GaugeMetricFamily(
            "siteline_outbox_oldest_due_age_seconds", "How long the oldest due, unsent delivery has waited (0: none)."
        )
        if oldest is not None and oldest.tzinfo is None:  # SQLite hands back naive UTC from aggregates
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
        rows = GaugeMetricFamily("siteline_outbox_deliveries", "Outbox rows by status.", labels=["status"])
        for status in ("pending", "sending", "sent", "failed", "cancelled"):
            rows.add_metric([status], by_status.get(status, 0))
        failed = GaugeMetricFamily(
            "siteline_outbox_failed", "Deliveries that failed for good (the platform refused them)."
        )
        failed.add_metric([], by_status.get("failed", 0))
        open_ = GaugeMetricFamily(
            "siteline_escalations_open", "Open escalations by the highest ladder level notified.", labels=["level"]
        )
        for level, count in sorted(levels.items()):
            open_.add_metric([str(level)], count)
        return [backlog, age, rows, failed, open_]


def _open_escalations(session: Any) -> dict[int, int]:
    from escalation.engine import OPEN
    from escalation.models import EscalationRow

    query = (
        select(EscalationRow.level, func.count()).where(EscalationRow.status.in_(OPEN)).group_by(EscalationRow.level)
    )
    return {int(level): int(count) for level, count in session.execute(query).all()}


class SchedulerCollector(Collector):
    """Whether this process runs the scheduler and whether it currently leads."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        live = getattr(self.app.state, "scheduler", None)
        running = bool(live is not None and live.running)
        leader = GaugeMetricFamily("siteline_scheduler_leader", "1 when this process leads the scheduler.")
        leader.add_metric([], 1 if running and live.lock.held else 0)
        run = GaugeMetricFamily("siteline_scheduler_running", "1 when this process runs the scheduler loop.")
        run.add_metric([], 1 if running else 0)
        yield leader
        yield run


def mount(app: FastAPI, container: Container) -> None:
    registry = CollectorRegistry()
    collectors = [REQUEST_SECONDS, REQUESTS, ASKS, QueueCollector(container), SchedulerCollector(app)]
    if container.engine.dialect.name == "sqlite":  # PostgreSQL has no one-writer lock to report
        collectors += [SQLITE_WRITER_WAIT, SQLITE_WRITER_HOLD]
    for collector in collectors:
        registry.register(collector)
    ProcessCollector(registry=registry)
    app.state.metrics_registry = registry
    app.include_router(router)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    expected = request.app.state.container.settings.metrics_token
    if expected is not None and not bearer_matches(request.headers.get("authorization"), expected):
        return JSONResponse(
            {"detail": "GET /metrics needs Authorization: Bearer <SITELINE_METRICS_TOKEN>"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
