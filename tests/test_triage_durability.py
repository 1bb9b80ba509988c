"""Durability: a worker killed mid-flush loses nothing and repeats at most the message in flight; two
workers on one PostgreSQL never send the same row twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import iso, parse_instant
from core.db import make_engine, make_session_factory, transaction
from core.domain import Site
from core.models import DeliveryRow
from core.notify import OutboundMessage, SendResult
from core.outbox import STALE_CLAIM
from scheduler.runner import Ticker
from siteline.database import migrate
from tests.triage_world import World
from triage.digest import flush_due
from triage.engine import DIGEST_TIMER
from triage.models import ItemRow

ROOT = Path(__file__).resolve().parents[1]
SLOT = parse_instant("2026-03-03T07:30:00Z")  # 08:30 in Paris: every site's next digest


def paris_sites(n: int) -> list[Site]:
    return [Site(site_id=f"P{i:03d}", tz="Europe/Paris", studies=["ALPHA"], digest_times=["08:30"],
                 quiet_hours=["19:00", "07:00"]) for i in range(n)]  # fmt: skip


def pending_digests(factory, n_sites: int, n_updates: int) -> World:
    """n_sites sites, each with n_updates pending non-urgent items waiting for SLOT."""
    w = World(factory, sites=paris_sites(n_sites))
    for k in range(n_updates):
        w.send(f"2026-03-02T1{k % 10}:0{k // 10}:00Z", id=f"m{k}", subject=f"Poster P{k}", body=f"Poster P{k}.")
    assert w.notifier.sent == []
    return w


def child(db_url: str, now: str, out: Path, mode: str, worker: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.triage_crash_child", db_url, now, str(out), mode, worker],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_mid_flush_then_restart_loses_nothing_and_repeats_at_most_one(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    factory = make_session_factory(engine)
    pending_digests(factory, n_sites=6, n_updates=3)
    sent = tmp_path / "sent.jsonl"

    first = child(db_url, iso(SLOT), sent, "block2", "worker-a")
    assert first.stdout is not None
    line = first.stdout.readline()  # the child is blocked inside its 2nd send, mid-flush
    assert line.strip() == "BLOCKED", first.stderr.read() if first.stderr else ""
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    before = [json.loads(x) for x in sent.read_text().splitlines()]
    assert len(before) == 2

    # The flush itself committed before the sends: 6 digests are stored, 1 marked sent, none lost.
    with transaction(factory) as s:
        statuses = Counter(s.execute(select(DeliveryRow.status)).scalars())
    assert statuses["sent"] == 1 and sum(statuses.values()) == 6

    later = SLOT + STALE_CLAIM + timedelta(seconds=1)  # the dead worker's claims are stale by now
    second = child(db_url, iso(later), sent, "normal", "worker-b")
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err

    records = [json.loads(x) for x in sent.read_text().splitlines()]
    per_site = Counter(r["to"] for r in records)
    assert set(per_site) == {f"P{i:03d}" for i in range(6)}  # every site got its digest
    repeats = [site for site, n in per_site.items() if n > 1]
    assert len(repeats) <= 1 and all(per_site[s] == 2 for s in repeats)  # at most the one in flight, once
    if repeats:
        assert repeats == [before[1]["to"]]
    for r in records:
        assert r["kind"] == "digest" and sorted(r["items"]) == ["m0", "m1", "m2"]
    with transaction(factory) as s:
        assert set(s.execute(select(DeliveryRow.status)).scalars()) == {"sent"}
        assert set(s.execute(select(ItemRow.status)).scalars()) == {"queued"}
    engine.dispose()


def test_kill_9_with_urgent_rows_claimed_then_restart_sends_them_within_60_s(pg_url: str, tmp_path: Path) -> None:
    """Issue 10 item 14: the dead worker's claims used to hold urgent rows for 5 minutes."""
    engine = make_engine(pg_url)
    migrate(engine)
    factory = make_session_factory(engine)
    w = pending_digests(factory, n_sites=3, n_updates=1)
    for k in range(2):  # two urgent updates, each to the three sites, due just before the digests
        w.send("2026-03-03T07:29:00Z", id=f"u{k}", subject=f"Recall of lot L{k}9", body=f"Lot L{k}9 is recalled.",
               deliver_before=False)  # fmt: skip
    sent = tmp_path / "sent.jsonl"
    first = child(pg_url, iso(SLOT), sent, "block1", "worker-a")  # claims a batch, hangs in its 1st send
    assert first.stdout is not None
    assert first.stdout.readline().strip() == "BLOCKED", first.stderr.read() if first.stderr else ""
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert [json.loads(x)["kind"] for x in sent.read_text().splitlines()] == ["immediate"]  # urgent first

    restart = SLOT + timedelta(seconds=60)  # the replacement's first tick, a minute after the crash
    second = child(pg_url, iso(restart), sent, "normal", "worker-b")
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    records = [json.loads(x) for x in sent.read_text().splitlines()]
    urgent = Counter((r["to"], tuple(r["items"])) for r in records if r["kind"] == "immediate")
    assert len(urgent) == 6 and sum(urgent.values()) <= 7  # every urgent row; at most the one in flight twice
    with transaction(factory) as s:
        assert set(s.execute(select(DeliveryRow.status)).scalars()) == {"sent"}
    engine.dispose()


class Shared:
    """One recording notifier for both workers, as one chat platform would be."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: list[tuple[str, int]] = []

    def for_worker(self, name: str) -> object:
        shared = self

        class _N:
            def send(self, message: OutboundMessage) -> SendResult:
                with shared.lock:
                    shared.sent.append((name, message.delivery_id))
                return SendResult.sent()

        return _N()


def test_two_workers_on_one_postgresql_send_each_row_exactly_once(pg_url: str) -> None:
    setup = make_engine(pg_url)
    migrate(setup)
    factory = make_session_factory(setup)
    w = pending_digests(factory, n_sites=60, n_updates=2)
    for k in range(3):  # plus urgent items due at once for every site: 180 immediate rows
        w.send("2026-03-03T07:29:00Z", id=f"u{k}", subject=f"Recall of lot L{k}9", body=f"Lot L{k}9 is recalled.",
               deliver_before=False)  # fmt: skip
    shared = Shared()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        engine = make_engine(pg_url)  # its own engine and connections, like another `serve` process
        try:
            ticker = Ticker(make_session_factory(engine), timer_handlers={DIGEST_TIMER: flush_due},
                            notifier=shared.for_worker(name), worker_id=name, claim_batch=5)  # fmt: skip
            barrier.wait(timeout=30)
            ticker.run(SLOT)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("w1", "w2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with transaction(factory) as s:
        rows = s.execute(select(DeliveryRow.id, DeliveryRow.kind, DeliveryRow.status)).all()
    assert len(rows) == 60 * 3 + 60  # 180 immediate + one digest per site (the flush ran once)
    assert {r.status for r in rows} == {"sent"}
    per_row = Counter(row_id for _, row_id in shared.sent)
    assert sorted(per_row) == sorted(r.id for r in rows) and set(per_row.values()) == {1}  # each row exactly once
    assert len(shared.sent) == 240  # (in practice both workers send about half each)
    setup.dispose()


@pytest.mark.parametrize("n", [1])
def test_the_child_worker_module_runs_a_normal_tick(db_url: str, tmp_path: Path, n: int) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    pending_digests(make_session_factory(engine), n_sites=2, n_updates=n)
    proc = child(db_url, iso(SLOT), tmp_path / "sent.jsonl", "normal", "w")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.strip().startswith("DONE") and len((tmp_path / "sent.jsonl").read_text().splitlines()) == 2
    engine.dispose()
