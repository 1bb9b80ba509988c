"""`python -m bench cluster`: the at-scale topology (PostgreSQL, a Chroma server, `siteline serve`
replicas as local processes) under 20 concurrent clients of mixed load, for 1 and 2 replicas, the
leader SIGKILLed and restarted a third of the way in; then the same with the `serve` processes on one
SQLite file instead of PostgreSQL (one machine, no database server). Prints lost / doubled / late
urgent / 5xx and throughput with p50/p95/p99 per endpoint. Needs the PostgreSQL of SITELINE_TEST_PG_URL.

`python -m bench.bench_cluster --database sqlite --replicas 2 --repeat 3` runs a part of it (for A/B runs
of one change: run it from each checkout in turn)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.cluster import database, run_cluster


def main(quick: bool = False) -> None:
    seconds, clients = (30, 10) if quick else (60, 20)
    for kind in ("postgresql", "sqlite"):
        for replicas in (1, 2):
            run(kind, replicas, seconds=seconds, clients=clients, kill=True)


def run(kind: str, replicas: int, *, seconds: float, clients: int, kill: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp), "bench") as url:
        report = run_cluster(
            database_url=url,
            workdir=Path(tmp),
            replicas=replicas,
            seconds=seconds,
            clients=clients,
            kill_leader=kill,
        )
    print(f"{kind}: {report.table()}", flush=True)


def cli(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_cluster", description=__doc__)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), action="append")
    parser.add_argument("--replicas", type=int, action="append", help="default: 1 and 2")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--no-kill", action="store_true", help="leave the leader running")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    for _ in range(args.repeat):
        for kind in args.database or ["postgresql", "sqlite"]:
            for replicas in args.replicas or [1, 2]:
                run(kind, replicas, seconds=args.seconds, clients=args.clients, kill=not args.no_kill)


if __name__ == "__main__":
    cli()
