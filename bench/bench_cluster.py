"""`python -m bench cluster`: the at-scale topology (PostgreSQL, a Chroma server, `siteline serve`
replicas as local processes) under 20 concurrent clients of mixed load, for 1 and 2 replicas, the
leader SIGKILLed and restarted a third of the way in; then the same with the `serve` processes on one
SQLite file instead of PostgreSQL (one machine, no database server). Prints lost / doubled / late
urgent / 5xx and throughput with p50/p95/p99 per endpoint. Needs the PostgreSQL of SITELINE_TEST_PG_URL."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.cluster import database, run_cluster


def main(quick: bool = False) -> None:
    seconds, clients = (30, 10) if quick else (60, 20)
    for kind in ("postgresql", "sqlite"):
        for replicas in (1, 2):
            with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp), "bench") as url:
                report = run_cluster(
                    database_url=url,
                    workdir=Path(tmp),
                    replicas=replicas,
                    seconds=seconds,
                    clients=clients,
                    kill_leader=True,
                )
            print(f"{kind}: {report.table()}", flush=True)


if __name__ == "__main__":
    main()
