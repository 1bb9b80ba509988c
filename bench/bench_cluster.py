"""`python -m bench cluster`: the at-scale topology (PostgreSQL, a Chroma server, `siteline serve`
replicas as local processes) under 20 concurrent clients of mixed load, for 1 and 2 replicas, the
leader SIGKILLed and restarted a third of the way in. Prints lost / doubled / late urgent / 5xx
and throughput with p50/p95/p99 per endpoint. Needs the PostgreSQL of SITELINE_TEST_PG_URL."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.cluster import run_cluster

PG_URL = os.environ.get("SITELINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def main(quick: bool = False) -> None:
    seconds, clients = (30, 10) if quick else (60, 20)
    for replicas in (1, 2):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        try:
            with tempfile.TemporaryDirectory() as tmp:
                report = run_cluster(
                    pg_url=f"{PG_URL}{sep}options=-csearch_path%3D{schema}",
                    workdir=Path(tmp),
                    replicas=replicas,
                    seconds=seconds,
                    clients=clients,
                    kill_leader=True,
                )
            print(report.table(), flush=True)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
