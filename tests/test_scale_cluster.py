"""The at-scale topology as local processes (PostgreSQL, a Chroma server, two `siteline serve`
replicas), under mixed load, with the scheduler leader SIGKILLed and restarted mid-run; and the same
with the two `serve` processes on one SQLite file (one machine, no database server).
Bounded: about a minute of load plus start-up each (see bench/cluster.py for what is counted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cluster import ClusterReport, run_cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.mark.postgres
def test_two_replicas_lose_nothing_when_the_leader_is_killed(pg_url: str, tmp_path: Path) -> None:
    _check(run_cluster(database_url=pg_url, workdir=tmp_path, replicas=2, seconds=30, clients=6, kill_leader=True))


def test_two_processes_on_one_sqlite_file_lose_nothing_when_the_leader_is_killed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'siteline.db'}"
    _check(run_cluster(database_url=url, workdir=tmp_path, replicas=2, seconds=30, clients=6, kill_leader=True))


def _check(report: ClusterReport) -> None:
    print("\n" + report.table())
    assert report.kills == 1
    assert len(report.per_replica) == 2 and min(report.per_replica) > 0.3 * max(report.per_replica)  # both served
    assert report.lost == 0
    assert report.server_errors == 0
    assert report.late_urgent == 0
    assert report.doubled <= report.kills  # at most the one message in flight when the leader died
    endpoints = report.endpoints()
    assert {"POST /api/ask", "POST /api/updates", "POST /api/escalations"} <= set(endpoints)
    assert report.urgent > 0 and report.due > report.urgent
