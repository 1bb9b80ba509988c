"""The at-scale topology as local processes (PostgreSQL, a Chroma server, two `siteline serve`
replicas), under mixed load, with the scheduler leader SIGKILLed and restarted mid-run.
Bounded: about a minute of load plus start-up (see bench/cluster.py for what is counted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cluster import run_cluster

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(180)]


def test_two_replicas_lose_nothing_when_the_leader_is_killed(pg_url: str, tmp_path: Path) -> None:
    report = run_cluster(pg_url=pg_url, workdir=tmp_path, replicas=2, seconds=30, clients=6, kill_leader=True)
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
