"""`python -m bench cluster`: the at-scale topology (PostgreSQL, a Chroma server, `siteline serve`
replicas as local processes) under 20 concurrent clients of mixed load, for 1 and 2 replicas, the
leader SIGKILLed and restarted a third of the way in. Prints lost / doubled / late urgent / 5xx
and throughput with p50/p95/p99 per endpoint. Needs the PostgreSQL of SITELINE_TEST_PG_URL."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.cluster import fresh_pg_schema, run_cluster


def main(quick: bool = False) -> None:
    seconds, clients = (30, 10) if quick else (60, 20)
    for replicas in (1, 2):
        with fresh_pg_schema("bench") as pg_url, tempfile.TemporaryDirectory() as tmp:
            report = run_cluster(
                pg_url=pg_url,
                workdir=Path(tmp),
                replicas=replicas,
                seconds=seconds,
                clients=clients,
                kill_leader=True,
            )
        print(report.table(), flush=True)


if __name__ == "__main__":
    main()
