"""A scheduler leader killed with rows claimed but not yet sent: the next leader sends them at
once (not after the 5-minute stale-claim wait), and never a row another worker is sending."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import VirtualClock, parse_instant
from core.db import make_engine, make_session_factory, transaction
from core.models import DeliveryRow
from core.notify import RecordingNotifier
from core.outbox import claim_due, enqueue, lock_claimed
from core.settings import Settings
from scheduler.live import LiveScheduler
from siteline.container import build

T0 = parse_instant("2026-03-02T09:00:00Z")


def _rows(c, *keys: str) -> None:
    with transaction(c.factory) as s:
        for key in keys:
            enqueue(s, dedupe_key=key, now=T0, due_at=T0, channel="site", recipient="S01", kind="immediate",
                    payload={"text": key})  # fmt: skip


@pytest.mark.postgres
def test_a_new_leader_sends_what_the_dead_leader_had_claimed_at_once(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "h", SITELINE_DATABASE_URL=pg_url)
    c = build(settings, clock=VirtualClock(T0 + timedelta(seconds=5)))
    _rows(c, "a", "b", "c")
    with transaction(c.factory) as s:  # the old leader claimed all three, then died before sending
        assert len(claim_due(s, now=T0, worker="dead-leader")) == 3
    # A live worker is in the middle of sending "c": it holds the row's lock.
    engine = make_engine(pg_url)
    busy = make_session_factory(engine)()
    c_id = busy.execute(select(DeliveryRow.id).where(DeliveryRow.dedupe_key == "c")).scalar_one()
    with transaction(c.factory) as s:
        s.execute(DeliveryRow.__table__.update().where(DeliveryRow.id == c_id).values(claimed_by="alive-worker"))
    assert lock_claimed(busy, row_id=c_id, worker="alive-worker") is not None

    notifier = RecordingNotifier()
    leader = LiveScheduler(c, notifier=notifier, plugins=[], worker_id="new-leader")
    try:
        done: list[int | None] = []
        t = threading.Thread(target=lambda: done.append(leader.tick()))
        t.start()
        t.join(timeout=30)
        assert not t.is_alive(), "the takeover waited on a row another worker is sending"
        assert sorted(m.payload["text"] for m in notifier.sent) == ["a", "b"]
        with transaction(c.factory) as s:
            status = dict(s.execute(select(DeliveryRow.dedupe_key, DeliveryRow.status)).all())
        assert status == {"a": "sent", "b": "sent", "c": "sending"}
    finally:
        busy.rollback()
        busy.close()
        engine.dispose()
        leader.stop()
        c.engine.dispose()
