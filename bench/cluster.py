"""The at-scale topology from local processes, under a mixed load, with the leader killed mid-run.

PostgreSQL (a fresh schema) or one SQLite file, a real Chroma server (`chroma run`), a fake Slack Web
API that records every message, and N `siteline serve` replicas on free ports (clients alternate between
them; a refused connection is retried on the next replica, as a balancer would). Clients send
asks, sponsor updates (a third of them urgent), escalations and acks for a bounded time; with
`kill_leader`, the scheduler leader is SIGKILLed a third of the way in and restarted 3 s later.
Then the outbox is left to settle and counted against what Slack received:

- lost: deliveries due but never sent, or marked sent with no matching Slack message (must be 0);
- doubled: messages Slack received twice, same channel, thread and content (a send whose "sent"
  mark died with the leader; at most the one message in flight per kill);
- late urgent: `immediate` deliveries sent more than 60 s after they were due;
- 5xx: server errors seen by clients (must be 0).

Used by tests/test_scale_cluster.py (short) and `python -m bench cluster` (1 vs 2 replicas).
The fake Slack and the Chroma server runner are the test suite's own (tests/).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text

from core.db import make_engine, make_session_factory, transaction
from core.directory import parse_entries, upsert
from core.models import DeliveryRow
from core.settings import Settings
from siteline.database import migrate
from tests.chroma_server import ChromaServer, free_port
from tests.fake_slack import FakeSlack
from tests.test_escalation_support import PEOPLE, SITES

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOKEN = "cluster-token"
STUDY = "ALPHA"
QUESTIONS = (
    "how long must we observe the participant after the injection?",
    "when must a serious adverse event be reported to the sponsor?",
    "at what temperature are the kits stored?",
    "is there parking validation for participants?",
)
CORPUS = {
    "dosing.md": "# Dosing\n\n## 6.2 Observation\nAfter each injection, observe the participant for at least "
    "30 minutes before discharge. Record vital signs at 15 and 30 minutes.\n",
    "safety.md": "# Safety reporting\n\n## 8.3 Serious adverse events\nReport every serious adverse event to the "
    "sponsor within 24 hours of the site becoming aware of it, using the SAE form.\n",
    "pharmacy.md": "# Pharmacy manual\n\n## 3 Storage\nStore the study kits refrigerated between 2 and 8 degrees "
    "Celsius and log the temperature twice a day.\n",
}


PG_URL = os.environ.get("SITELINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_pg_schema(prefix: str, pg_url: str = PG_URL) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new, empty schema, dropped afterwards (one per bench run)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def database(kind: str, folder: Path, prefix: str) -> Iterator[str]:
    """A database URL for one run: a SQLite file in `folder`, or a fresh PostgreSQL schema dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'siteline.db'}"
        return
    with fresh_pg_schema(prefix) as url:
        yield url


@dataclass
class Replica:
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "siteline"), "serve", "--port", str(self.port)], env=self.env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"siteline serve exited early:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"siteline serve was not ready within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def leads(self) -> bool:
        try:
            body = httpx.get(f"{self.url}/metrics", timeout=5).text
        except httpx.TransportError:
            return False
        return re.search(r"^siteline_scheduler_leader 1\.0$", body, re.M) is not None


@dataclass
class Sample:
    endpoint: str
    status: int
    seconds: float


@dataclass
class ClusterReport:
    replicas: int
    seconds: float
    samples: list[Sample]
    refused: int
    kills: int
    due: int
    lost: int
    doubled: int
    urgent: int
    late_urgent: int
    worst_urgent_s: float
    per_replica: tuple[int, ...] = ()  # requests answered by each replica (the restarted one counts as one)

    @property
    def server_errors(self) -> int:
        return sum(1 for s in self.samples if s.status >= 500)

    def endpoints(self) -> dict[str, dict[str, float]]:
        by: dict[str, list[Sample]] = defaultdict(list)
        for s in self.samples:
            by[s.endpoint].append(s)
        out = {}
        for name, samples in sorted(by.items()):
            ms = sorted(s.seconds * 1000 for s in samples)
            q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
            out[name] = {
                "n": len(ms),
                "per_s": len(ms) / self.seconds,
                "p50": q[49],
                "p95": q[94],
                "p99": q[98],
                "5xx": sum(1 for s in samples if s.status >= 500),
            }
        return out

    def table(self) -> str:
        lines = [
            f"{self.replicas} replica(s), {self.seconds:.0f} s, kills {self.kills}: deliveries due {self.due}, "
            f"lost {self.lost}, doubled {self.doubled}, urgent {self.urgent} (late > 60 s: {self.late_urgent}, "
            f"worst {self.worst_urgent_s:.1f} s), 5xx {self.server_errors}, refused connections {self.refused}, "
            f"requests per replica {list(self.per_replica)}",
            f"{'endpoint':<22}{'n':>6}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'5xx':>5}",
        ]
        for name, f in self.endpoints().items():
            lines.append(
                f"{name:<22}{f['n']:>6.0f}{f['per_s']:>8.1f}{f['p50']:>9.0f}{f['p95']:>9.0f}{f['p99']:>9.0f}"
                f"{f['5xx']:>5.0f}"
            )
        return "\n".join(lines)


def directory() -> tuple[list[Any], list[Any]]:
    """The escalation tests' sites and people, each with a Slack identity so every delivery is a Slack message."""
    sites = [{**s, "slack_channel_id": f"C_{s['site_id']}"} for s in SITES]
    people = [{**p, "slack_user_id": f"U_{p['person_id'].upper()}"} for p in PEOPLE]
    entries = [(s["site_id"], {"type": "site", **s}) for s in sites]
    entries += [(p["person_id"], {"type": "person", **p}) for p in people]
    return parse_entries(entries)


class Load:
    """Client threads: each picks an operation and the next replica in turn."""

    def __init__(self, replicas: list[Replica], seed: int) -> None:
        self.replicas = replicas
        self.samples: list[Sample] = []
        self.refused = 0
        self._turn = 0
        self._lock = threading.Lock()
        self._seed = seed
        self._raised: list[str] = []
        self.by_replica: dict[int, int] = {}
        self._n = 0

    def _next(self) -> int:
        with self._lock:
            self._n += 1
            return self._n

    def _replica_turn(self) -> int:
        """Round robin over replicas, on a counter of its own (sharing `_n` made every client's
        requests land on one replica whenever its two draws were not interleaved with others')."""
        with self._lock:
            self._turn += 1
            return self._turn

    def _send(self, client: httpx.Client, endpoint: str, method: str, path: str, body: dict[str, Any]) -> int:
        turn = self._replica_turn()
        for attempt in range(len(self.replicas) * 3):
            replica = self.replicas[(turn + attempt) % len(self.replicas)]
            started = time.perf_counter()
            try:
                resp = client.request(method, replica.url + path, json=body)
            except httpx.TransportError:
                with self._lock:
                    self.refused += 1
                time.sleep(0.2)
                continue
            with self._lock:
                self.samples.append(Sample(endpoint, resp.status_code, time.perf_counter() - started))
                self.by_replica[replica.port] = self.by_replica.get(replica.port, 0) + 1
            return resp.status_code
        return 0

    def client(self, index: int, until: float) -> None:
        rng = random.Random(self._seed * 1000 + index)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(headers=headers, timeout=60) as client:
            while time.monotonic() < until:
                n = self._next()
                roll = rng.random()
                if roll < 0.5:
                    self._send(client, "POST /api/ask", "POST", "/api/ask",
                               {"question": rng.choice(QUESTIONS), "study": STUDY})  # fmt: skip
                elif roll < 0.7:
                    urgent = n % 3 == 0
                    body = {
                        "id": f"u-{self._seed}-{index}-{n}", "from": "sm1", "org": "sponsor", "study": STUDY,
                        "sites": "all",
                        "subject": f"Recall of kit lot L{n}: stop dosing" if urgent else f"Newsletter issue {n}",
                        "body": f"Lot L{n} is recalled; quarantine every kit of it now." if urgent
                        else f"Enrolment figures for week {n}.",
                        "declared_priority": "urgent" if urgent else "normal",
                    }  # fmt: skip
                    self._send(client, "POST /api/updates", "POST", "/api/updates", body)
                elif roll < 0.85:
                    site = rng.choice(("S01", "S02", "S03"))
                    esc = f"e-{self._seed}-{index}-{n}"
                    status = self._send(client, "POST /api/escalations", "POST", "/api/escalations", {
                        "id": esc, "site": site, "study": STUDY, "raised_by": f"staff{site[-1]}",
                        "summary": f"fridge {n} read 14 degrees overnight; kits quarantined"})  # fmt: skip
                    if status == 201:
                        with self._lock:
                            self._raised.append(esc)
                else:
                    with self._lock:
                        esc = self._raised.pop(0) if self._raised else None
                    if esc:
                        self._send(client, "POST /api/escalations/{id}/ack", "POST",
                                   f"/api/escalations/{esc}/ack", {"by": "cra1"})  # fmt: skip


def run_cluster(
    *,
    database_url: str,
    workdir: Path,
    replicas: int = 2,
    seconds: float = 40,
    clients: int = 8,
    kill_leader: bool = True,
    seed: int = 1,
    serve_env: dict[str, str] | None = None,
) -> ClusterReport:
    """`serve_env`: settings for the replicas (e.g. {"SITELINE_ASK_CONCURRENCY": "4"}), for A/B runs."""
    workdir.mkdir(parents=True, exist_ok=True)
    chroma = ChromaServer(workdir / "chroma-data")
    chroma.start()
    fake = FakeSlack().start()
    engine = make_engine(database_url)
    nodes: list[Replica] = []
    try:
        migrate(engine)
        factory = make_session_factory(engine)
        with transaction(factory) as s:
            upsert(s, *directory())
        _ingest(database_url, chroma, workdir)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SITELINE_", "SLACK_", "OPENAI_", "TEAMS_"))}
        base = clean | {
            "PYTHONPATH": str(ROOT),
            "SITELINE_DATABASE_URL": database_url,
            "SITELINE_CHROMA_HOST": "127.0.0.1",
            "SITELINE_CHROMA_PORT": str(chroma.port),
            "SITELINE_API_TOKEN": TOKEN,
            "SITELINE_AUTO_MIGRATE": "false",
            "SITELINE_TICK_SECONDS": "1",
            "SITELINE_LOG_FORMAT": "json",
            "SITELINE_LOG_LEVEL": "WARNING",
            "SLACK_BOT_TOKEN": "xoxb-cluster",
            "SLACK_SIGNING_SECRET": "cluster-secret",
            "SLACK_API_URL": fake.api_url,
        }
        base.update(serve_env or {})
        for i in range(replicas):
            env = base | {"SITELINE_HOME": str(workdir / f"home-{i}")}
            nodes.append(Replica(env, workdir / f"serve-{i}.log"))
        for node in nodes:
            node.start()
        for node in nodes:  # load the embedding model and indexes before the clock starts
            httpx.post(f"{node.url}/api/ask", json={"question": QUESTIONS[0], "study": STUDY},
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)  # fmt: skip
        load = Load(nodes, seed)
        started = time.monotonic()
        until = started + seconds
        threads = [threading.Thread(target=load.client, args=(i, until)) for i in range(clients)]
        for t in threads:
            t.start()
        kills = 0
        if kill_leader:
            time.sleep(seconds / 3)
            leader = next((n for n in nodes if n.leads()), None)
            if leader is not None:
                leader.kill()
                kills += 1
                time.sleep(3)
                leader.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        _settle(factory)
        return _count(factory, fake, load, replicas=replicas, seconds=elapsed, kills=kills)
    finally:
        for node in nodes:
            node.stop()
        fake.stop()
        chroma.stop()
        engine.dispose()


def _ingest(database_url: str, chroma: ChromaServer, workdir: Path) -> None:
    from siteline.container import build

    folder = workdir / "corpus"
    folder.mkdir(exist_ok=True)
    for name, body in CORPUS.items():
        (folder / name).write_text(body)
    settings = Settings(_env_file=None, SITELINE_HOME=workdir / "home-ingest", SITELINE_DATABASE_URL=database_url,
                        SITELINE_CHROMA_HOST="127.0.0.1", SITELINE_CHROMA_PORT=chroma.port)  # fmt: skip
    c = build(settings)
    try:
        report = c.knowledge.ingest([folder], study=STUDY, kind="protocol", now=datetime.now(UTC), progress=False)
        assert report.ok, [o.line() for o in report.failed]
    finally:
        c.engine.dispose()


def _settle(factory: Any, timeout: float = 60) -> None:
    """Wait until nothing due is left unsent (the scheduler ticks every second)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = datetime.now(UTC)
        with transaction(factory) as s:
            left = s.execute(
                select(DeliveryRow.id)
                .where(DeliveryRow.due_at <= now, DeliveryRow.status.in_(("pending", "sending")))
                .limit(1)
            ).first()
        if left is None:
            return
        time.sleep(0.5)


def _count(factory: Any, fake: FakeSlack, load: Load, *, replicas: int, seconds: float, kills: int) -> ClusterReport:
    now = datetime.now(UTC)
    with transaction(factory) as s:
        rows = list(s.execute(select(DeliveryRow)).scalars())
    due = [r for r in rows if r.due_at <= now and r.status != "cancelled"]
    posted = fake.of("chat.postMessage")
    unsent = [r for r in due if r.status != "sent"]
    channels = {c.args.get("channel") for c in posted} | {
        f"D{c.args.get('users')}" for c in fake.of("conversations.open")
    }
    unrecorded_sends = [r for r in due if r.status == "sent" and (r.external_ref or ":").split(":")[0] not in channels]
    # A message Slack got twice has the same channel, thread and content (every delivery's text is its own).
    seen: set[str] = set()
    doubled = 0
    for call in posted:
        key = json.dumps([call.args.get(k) for k in ("channel", "thread_ts", "text", "blocks")], sort_keys=True)
        doubled += key in seen
        seen.add(key)
    urgent = [r for r in due if r.kind == "immediate" and r.status == "sent"]
    delays = [(r.sent_at - r.due_at).total_seconds() for r in urgent if r.sent_at]
    return ClusterReport(
        replicas=replicas,
        seconds=seconds,
        samples=load.samples,
        refused=load.refused,
        kills=kills,
        due=len(due),
        lost=len(unsent) + len(unrecorded_sends),
        doubled=doubled,
        urgent=len(urgent),
        late_urgent=sum(1 for d in delays if d > 60),
        worst_urgent_s=max(delays, default=0.0),
        per_replica=tuple(load.by_replica.values()),
    )
