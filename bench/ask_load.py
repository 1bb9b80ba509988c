"""`POST /api/ask` alone under N closed-loop clients against one `siteline serve` process.

The cluster bench (bench/cluster.py) mixes endpoints and kills the leader, on PostgreSQL; this one
isolates the ask path on the embedded default (SQLite, embedded Chroma) or on PostgreSQL, with
the demo study ingested, so a change to the ask path can be measured A/B in one run. Each client
sends one ask, waits for the answer, sends the next (closed loop), for a bounded time.

    python -m bench.ask_load [--database sqlite|postgresql] [--clients 20] [--seconds 30]

`serve_pid` is printed so a profiler (py-spy record --pid) can be attached during the run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.cluster import ROOT, Replica
from bench.cluster import database as database_for_run

TOKEN = "ask-load-token"
# Demo-study questions of the kinds a site asks: answered, typed, abstained, the older version's.
QUESTIONS = (
    ("how must the IP be stored?", "ORION-301"),
    ("within how many hours must a serious adverse event be reported?", "ORION-301"),
    ("what is the visit window for week 12?", "ORION-301"),
    ("which tube is used for the HbA1c sample?", "ORION-301"),
    ("how soon must visit data be entered in the EDC?", "ORION-301"),
    ("what is the starting dose of velnostat?", "VEGA-210"),
    ("is there parking validation for participants?", "VEGA-210"),
    ("who do I call if the fridge alarm goes off at night?", "ORION-301"),
)


@dataclass
class AskLoadReport:
    database: str
    clients: int
    seconds: float
    latencies_ms: list[float]
    errors: int
    cpu_s: float  # CPU time the serve process used while loaded (user + system)
    client_cpu_s: float = 0.0  # CPU time the clients (this process) used meanwhile, on the same cores

    def figures(self) -> dict[str, float]:
        ms = sorted(self.latencies_ms)
        q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
        n = max(len(ms), 1)
        return {
            "n": len(ms),
            "per_s": len(ms) / self.seconds,
            "p50": q[49],
            "p95": q[94],
            "p99": q[98],
            "cpu": 1000 * self.cpu_s / n,
            "client_cpu": 1000 * self.client_cpu_s / n,
        }

    def line(self) -> str:
        f = self.figures()
        return (
            f"{self.database:<11}{self.clients:>8}{f['n']:>7.0f}{f['per_s']:>8.1f}{f['p50']:>9.0f}{f['p95']:>9.0f}"
            f"{f['p99']:>9.0f}{f['cpu']:>13.1f}{f['client_cpu']:>13.1f}{self.errors:>7}"
        )


HEADER = (
    f"{'database':<11}{'clients':>8}{'n':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
    f"{'CPU ms/ask':>13}{'client CPU':>13}{'errors':>7}"
)


def _prepare(url: str, home: Path) -> None:
    """Migrate and ingest the demo study in this process, as `siteline demo` would."""
    from core.settings import Settings
    from siteline import demo
    from siteline.container import build

    c = build(Settings(_env_file=None, SITELINE_HOME=home, SITELINE_DATABASE_URL=url))
    try:
        demo.prepare(c, now=datetime.now(UTC))
    finally:
        c.engine.dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(urls: list[str], *, clients: int, seconds: float) -> tuple[list[float], int]:
    """Closed-loop ask clients against `url` for `seconds`: latencies (ms) of 200s, and the count of others."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def client(index: int) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {TOKEN}"}
        n = index
        with httpx.Client(headers=headers, timeout=60) as http:
            while time.monotonic() < until:
                question, study = QUESTIONS[n % len(QUESTIONS)]
                n += 1
                started = time.perf_counter()
                try:
                    url = urls[n % len(urls)]
                    ok = http.post(f"{url}/api/ask", json={"question": question, "study": study}).status_code == 200
                except httpx.TransportError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def run_ask_load(
    *,
    database: str = "sqlite",
    clients: int = 20,
    seconds: float = 30,
    processes: int = 1,
    extra_env: dict[str, str] | None = None,
) -> AskLoadReport:
    with tempfile.TemporaryDirectory() as tmp, database_for_run(database, Path(tmp), "askload") as db_url:
        home = Path(tmp)
        _prepare(db_url, home)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "SLACK_", "OPENAI_", "TEAMS_"))}
        env = (
            clean
            | {
                "PYTHONPATH": str(ROOT),
                "SITELINE_HOME": str(home),
                "SITELINE_DATABASE_URL": db_url,
                "SITELINE_API_TOKEN": TOKEN,
                "SITELINE_LOG_FORMAT": "json",
                "SITELINE_LOG_LEVEL": "WARNING",
            }
            | (extra_env or {})
        )
        serves = [Replica(env, home / f"serve-{i}.log") for i in range(processes)]
        try:
            for serve in serves:
                serve.start()
            pids = [serve.proc.pid for serve in serves if serve.proc]
            urls = [serve.url for serve in serves]
            print(f"serve_pid {' '.join(map(str, pids))}", file=sys.stderr, flush=True)
            drive(urls, clients=len(urls), seconds=3)  # load the model and indexes before the clock starts
            cpu, started, own = sum(map(_cpu_seconds, pids)), time.monotonic(), time.process_time()
            latencies, errors = drive(urls, clients=clients, seconds=seconds)
            elapsed, cpu = time.monotonic() - started, sum(map(_cpu_seconds, pids)) - cpu
            client_cpu = time.process_time() - own
        finally:
            for serve in serves:
                serve.stop()
    return AskLoadReport(database, clients, elapsed, latencies, errors, cpu, client_cpu)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ask_load", description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), action="append")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--processes", type=int, default=1, help="serve processes on the one database")
    args = parser.parse_args(argv)
    print(HEADER, flush=True)
    for _ in range(args.repeat):
        for database in args.database or ["sqlite", "postgresql"]:
            print(
                run_ask_load(
                    database=database, clients=args.clients, seconds=args.seconds, processes=args.processes
                ).line(),
                flush=True,
            )


if __name__ == "__main__":
    main()
