"""The live loop of `serve`: the same Ticker on the clock it is given, one leader per PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.directory import upsert
from core.models import DeliveryRow
from core.notify import LoggingNotifier, RecordingNotifier
from core.settings import Settings
from scheduler.live import LeaderLock, LiveScheduler, live_notifier, mount
from siteline.container import Container, build
from tests.triage_world import SITES
from triage.plugin import plugin
from triage.schemas import UpdateIn
from triage.service import TriageService


@pytest.fixture
def live(tmp_path: Path, db_url: str) -> Iterator[Container]:
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url,
                        SITELINE_TICK_SECONDS=3600)  # fmt: skip
    c = build(settings, clock=VirtualClock(parse_instant("2026-03-02T09:00:00Z")))
    with transaction(c.factory) as s:
        upsert(s, SITES, [])
    yield c
    c.engine.dispose()


def submit(c: Container, **fields: str) -> None:
    data = {"id": "m1", "from": "sm-1", "org": "sponsor", "study": "ALPHA", "sites": "all", "subject": "x",
            "body": ""} | fields  # fmt: skip
    TriageService.of(c).submit(UpdateIn.model_validate(data), actor="t", source="test")


def test_a_tick_fires_timers_and_delivers_through_the_live_notifier(live: Container) -> None:
    notifier = RecordingNotifier()
    sched = LiveScheduler(live, notifier=notifier, plugins=[plugin(live.settings)], worker_id="w1")
    submit(live, id="u1", subject="Recall of lot L1", body="Lot L1 is recalled.")
    submit(live, id="f1", subject="Poster P1", body="Poster P1 accepted.")
    assert sched.tick() == 3  # the three immediate rows, now
    assert [m.kind for m in notifier.sent] == ["immediate"] * 3
    assert isinstance(live.clock, VirtualClock)
    # The service was down all night: at 08:30 in Paris, three slots are due at once.
    live.clock.advance_to(parse_instant("2026-03-03T07:30:00Z"))
    assert sched.tick() == 3 + 2  # three wake-up timers, two digests:
    # Paris on time, Singapore late but still in its day, Chicago (01:30, quiet) re-armed, not sent.
    assert [(m.kind, m.recipient) for m in notifier.sent[3:]] == [("digest", "S01"), ("digest", "S03")]
    assert TriageService.of(live).preferences("S02").next_digest_at == parse_instant("2026-03-03T15:00:00Z")


def test_without_a_chat_platform_deliveries_are_held_visibly_and_sent_once_one_is_configured(
    live: Container, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 10 item 11: never `sent` to the log by default; held as `blocked`, uncounted, in stats."""
    notifier = live_notifier(live)
    assert not isinstance(notifier, LoggingNotifier)
    submit(live, id="u2", sites=["S01"], subject="Recall of lot L2", body="Lot L2 is recalled.")
    caplog.set_level("INFO")
    LiveScheduler(live, notifier=notifier, plugins=[plugin(live.settings)]).tick()
    with transaction(live.factory) as s:
        row = s.execute(select(DeliveryRow)).scalar_one()
        assert (row.status, row.attempts, row.sent_at) == ("blocked", 0, None)
        assert "no chat platform is configured" in (row.last_error or "")
    assert "held, not sent" in caplog.text and "Lot L2" not in caplog.text
    report = TriageService.of(live).stats(days=1)
    assert report.undelivered == {"blocked": 1} and "SLACK_BOT_TOKEN" in (report.held_reason or "")
    assert [s.blocked_deliveries for s in report.sites if s.site_id == "S01"] == [1]
    # Still no platform 10 minutes later: tried again, still held, still not counted as an attempt.
    live.clock.advance_to(live.clock.now() + timedelta(minutes=11))  # type: ignore[attr-defined]
    LiveScheduler(live, notifier=notifier, plugins=[plugin(live.settings)]).tick()
    # A restart with a platform configured sends what was held, at once.
    recording = RecordingNotifier()
    LiveScheduler(live, notifier=recording, plugins=[plugin(live.settings)]).tick()
    assert [(m.kind, m.recipient) for m in recording.sent] == [("immediate", "S01")]
    with transaction(live.factory) as s:
        assert s.execute(select(DeliveryRow.status, DeliveryRow.attempts)).one() == ("sent", 1)


def test_only_an_explicit_dry_run_logs_and_drops_deliveries(live: Container, caplog: pytest.LogCaptureFixture) -> None:
    live.settings = live.settings.model_copy(update={"delivery_dry_run": True})
    notifier = live_notifier(live)
    assert isinstance(notifier, LoggingNotifier)
    submit(live, id="u2", sites=["S01"], subject="Recall of lot L2", body="Lot L2 is recalled.")
    caplog.set_level("INFO", logger="siteline.notify")
    LiveScheduler(live, notifier=notifier, plugins=[plugin(live.settings)]).tick()
    assert "immediate to site S01 items=['u2']" in caplog.text
    assert "Lot L2" not in caplog.text  # ids only: message text stays out of logs
    with transaction(live.factory) as s:
        assert s.execute(select(DeliveryRow.status)).scalar() == "sent"


def test_serve_starts_and_stops_the_scheduler_with_the_app(live: Container) -> None:
    from siteline.server import create_app

    app = create_app(live)
    with TestClient(app):
        assert app.state.scheduler.running
    assert not app.state.scheduler.running


def test_mount_respects_run_scheduler_off(live: Container) -> None:
    from types import SimpleNamespace

    app = SimpleNamespace(state=SimpleNamespace(on_start=[]))
    off = Container(live.settings.model_copy(update={"run_scheduler": False}), live.engine, live.factory, live.clock)
    mount(app, off)  # type: ignore[arg-type]
    assert app.state.on_start == []
    mount(app, live)
    assert len(app.state.on_start) == 1


def test_one_leader_per_postgresql_database(pg_url: str) -> None:
    from core.db import make_engine

    a, b = make_engine(pg_url), make_engine(pg_url)
    first, second = LeaderLock(a), LeaderLock(b)
    try:
        assert first.acquire() and first.held
        assert not second.acquire() and not second.held  # a follower
        assert first.acquire()  # the leader keeps leading
        first.release()
        assert second.acquire()  # a follower takes over when the leader goes
    finally:
        first.release()
        second.release()
        a.dispose()
        b.dispose()


def test_a_follower_does_nothing(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "h", SITELINE_DATABASE_URL=pg_url)
    c = build(settings, clock=VirtualClock(parse_instant("2026-03-02T09:00:00Z")))
    with transaction(c.factory) as s:
        upsert(s, SITES, [])
    submit(c, id="u3", subject="Recall of lot L3", body="Lot L3 is recalled.")
    leader = LiveScheduler(c, notifier=RecordingNotifier(), plugins=[plugin(settings)], worker_id="a")
    follower = LiveScheduler(c, notifier=RecordingNotifier(), plugins=[plugin(settings)], worker_id="b")
    try:
        assert leader.tick() == 3
        assert follower.tick() is None
    finally:
        leader.stop()
        follower.stop()
        c.engine.dispose()
