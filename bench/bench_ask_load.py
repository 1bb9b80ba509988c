"""`python -m bench ask_load`: `POST /api/ask` alone, 20 closed-loop clients against one `siteline serve`
(demo study), on SQLite (embedded default) and on PostgreSQL; p50/p95/p99, req/s and the serve
process's CPU per answered ask. See bench/ask_load.py for the options (clients, seconds, processes)."""

from __future__ import annotations

from bench.ask_load import HEADER, run_ask_load


def main(quick: bool = False) -> None:
    seconds = 15 if quick else 30
    print(HEADER, flush=True)
    for database in ("sqlite", "postgresql"):
        print(run_ask_load(database=database, clients=20, seconds=seconds).line(), flush=True)


if __name__ == "__main__":
    main()
