"""Several processes on one SQLite file: one scheduler leader, claims that never overlap, writers that
queue instead of failing. Each engine below stands for a process: it has its own connections, its own
writer lock and its own file handles, so the locks between them are the ones between processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.db import make_engine, make_session_factory, transaction
from core.outbox import claim_due, enqueue
from scheduler.live import LeaderLock
from siteline.database import migrate

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    url = f"sqlite:///{tmp_path / 'siteline.db'}"
    a, b = make_engine(url), make_engine(url)
    migrate(a)
    yield a, b
    a.dispose()
    b.dispose()


def test_one_scheduler_leader_per_sqlite_file(engines: tuple[Engine, Engine]) -> None:
    first, second = LeaderLock(engines[0]), LeaderLock(engines[1])
    try:
        assert first.acquire() and first.held
        assert not second.acquire() and not second.held  # a follower
        assert first.acquire()  # the leader keeps leading
        first.release()
        assert second.acquire() and second.held  # a follower takes over when the leader goes
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def test_an_in_memory_database_always_leads() -> None:
    engine = make_engine("sqlite://")
    assert LeaderLock(engine).acquire() and LeaderLock(engine).held


def test_two_processes_claiming_at_once_never_take_the_same_row(engines: tuple[Engine, Engine]) -> None:
    a, b = (make_session_factory(e) for e in engines)
    with transaction(a) as s:
        for n in range(20):
            enqueue(s, dedupe_key=f"k{n}", now=NOW, due_at=NOW - timedelta(minutes=1), channel="slack",
                    recipient="U1", kind="immediate", payload={"text": str(n)})  # fmt: skip
    first_claimed = threading.Event()
    let_first_commit = threading.Event()
    claims: dict[str, list[int]] = {}

    def first() -> None:
        with transaction(a) as s:
            claims["first"] = [r.id for r in claim_due(s, now=NOW, worker="first", limit=10)]
            first_claimed.set()
            let_first_commit.wait(10)

    def second() -> None:
        first_claimed.wait(10)
        with transaction(b) as s:  # while the first claim is not committed yet
            claims["second"] = [r.id for r in claim_due(s, now=NOW, worker="second", limit=10)]

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    first_claimed.wait(10)
    time.sleep(0.3)  # the second claim is under way (waiting for the first)
    assert "second" not in claims
    let_first_commit.set()
    for t in threads:
        t.join(30)
    assert len(claims["first"]) == 10 and len(claims["second"]) == 10
    assert not set(claims["first"]) & set(claims["second"])
    with engines[0].connect() as conn:
        owners = dict(conn.execute(text("SELECT claimed_by, count(*) FROM deliveries GROUP BY claimed_by")).all())
    assert owners == {"first": 10, "second": 10}


def test_a_writer_waits_for_another_process_writer_instead_of_failing(engines: tuple[Engine, Engine]) -> None:
    """The second writer queues on the file's writer lock and goes in once the first commits."""
    a, b = (make_session_factory(e) for e in engines)
    writing = threading.Event()
    done: list[str] = []

    def slow_writer() -> None:
        with transaction(a) as s:
            s.execute(text("UPDATE audit_head SET row_count = row_count WHERE id = 1"))
            writing.set()
            time.sleep(0.5)
            done.append("first")

    def second_writer() -> None:
        writing.wait(10)
        with transaction(b) as s:
            s.execute(text("UPDATE audit_head SET row_count = row_count WHERE id = 1"))
            done.append("second")

    threads = [threading.Thread(target=slow_writer), threading.Thread(target=second_writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert done == ["first", "second"]
    for engine in engines:  # nothing is left holding the lock: a third write goes straight in
        with transaction(make_session_factory(engine)) as s:
            s.execute(text("UPDATE audit_head SET row_count = row_count WHERE id = 1"))


def test_a_writer_stuck_in_another_process_is_waited_for_a_bounded_time(tmp_path: Path) -> None:
    """Past the timeout the lock is not taken (SQLite's own busy timeout then answers): never a hang."""
    from core.sqlite_writer import WriterLock

    database = tmp_path / "siteline.db"
    stuck, waiting = WriterLock(database), WriterLock(database)  # two processes' locks on one file
    assert stuck.acquire()
    started = time.monotonic()
    assert not waiting.acquire(timeout=0.3)
    assert 0.25 < time.monotonic() - started < 5
    stuck.release()
    assert waiting.acquire(timeout=5)  # free again: taken at once
    waiting.release()


def test_the_writer_lock_reports_how_long_writers_waited_and_held_it(tmp_path: Path) -> None:
    """What `/metrics` shows an operator of a SQLite deployment: a second writer's wait is the first one's hold."""
    from core.metrics import SQLITE_WRITER_HOLD, SQLITE_WRITER_WAIT
    from core.sqlite_writer import WriterLock

    def observed(histogram) -> tuple[float, float]:  # (count, sum) so far in this process
        samples = {s.name: s.value for s in histogram.collect()[0].samples}
        name = histogram.collect()[0].name
        return samples[f"{name}_count"], samples[f"{name}_sum"]

    lock = WriterLock(tmp_path / "siteline.db")
    waits, holds = observed(SQLITE_WRITER_WAIT), observed(SQLITE_WRITER_HOLD)
    assert lock.acquire()
    second_got = threading.Event()

    def second() -> None:
        assert lock.acquire()
        second_got.set()
        lock.release()

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.2)  # the first writer holds the lock while the second waits
    assert not second_got.is_set()
    lock.release()
    t.join(5)
    assert second_got.is_set()
    waits_after, holds_after = observed(SQLITE_WRITER_WAIT), observed(SQLITE_WRITER_HOLD)
    assert waits_after[0] - waits[0] == 2 and holds_after[0] - holds[0] == 2
    assert waits_after[1] - waits[1] >= 0.15  # the second writer's wait
    assert holds_after[1] - holds[1] >= 0.15  # the first writer's hold
