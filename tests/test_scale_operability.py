"""What an operator sees of a running replica: /readyz, /metrics, JSON logs with request ids, and
API docs only when enabled. Through the real FastAPI app on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.models import DeliveryRow
from core.outbox import enqueue
from core.settings import Settings
from siteline.container import Container, build
from siteline.database import head_revision
from siteline.server import create_app
from tests.test_escalation_support import seed

TOKEN = {"Authorization": "Bearer s3cret"}
NOW = "2026-03-09T09:00:00Z"
DOC = """# Dosing

## 6.2 Observation
After each injection, observe the participant for at least 30 minutes before discharge.
"""


def make(tmp_path: Path, db_url: str, **env: object) -> Container:
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=db_url,
        SITELINE_API_TOKEN="s3cret",
        SITELINE_TICK_SECONDS=3600,
        **env,
    )
    container = build(settings, clock=VirtualClock(parse_instant(NOW)))
    seed(container.factory)
    return container


@pytest.fixture
def live(tmp_path: Path, db_url: str) -> Iterator[tuple[TestClient, Container]]:
    container = make(tmp_path, db_url)
    app = create_app(container)
    with TestClient(app) as client:
        app.state.scheduler.tick()  # lead now rather than at the first background tick
        yield client, container
    container.engine.dispose()


def metric(body: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format (None when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        sample, _, raw = key.partition("{")
        got = ",".join(sorted(p for p in raw.rstrip("}").split(",") if p))
        if sample == name and got == want:
            return float(value)
    return None


def test_readyz_reports_each_dependency(live) -> None:
    client, _ = live
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": head_revision(), "chroma": "embedded", "scheduler": "leader"},
    }


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readyz_is_503_with_reasons(tmp_path: Path, db_url: str) -> None:
    port = _closed_port()
    container = make(tmp_path, db_url, SITELINE_CHROMA_HOST="127.0.0.1", SITELINE_CHROMA_PORT=port)
    with transaction(container.factory) as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    client = TestClient(create_app(container))  # no lifespan: the scheduler never started
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.json()
    assert body["status"] == "not ready"
    assert body["checks"] == {"database": "ok", "schema": "0005", "chroma": "down", "scheduler": "stopped"}
    assert body["reasons"][0] == f"schema at 0005, this code needs {head_revision()} (run `siteline db upgrade`)"
    assert body["reasons"][1] == f"the Chroma server at http://127.0.0.1:{port} could not be reached (ConnectError)"
    assert body["reasons"][2] == "the scheduler is not running (SITELINE_RUN_SCHEDULER is on)"
    container.engine.dispose()


def test_readyz_with_the_scheduler_off_and_the_database_down(tmp_path: Path) -> None:
    from core.db import make_engine

    container = make(tmp_path, f"sqlite:///{tmp_path / 'gone.db'}", SITELINE_RUN_SCHEDULER=False)
    container.engine.dispose()
    container.engine = make_engine("sqlite:////nonexistent/dir/x.db")  # the database went away
    resp = TestClient(create_app(container)).get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["checks"]["database"] == "unreachable" and resp.json()["checks"]["scheduler"] == "off"
    assert resp.json()["reasons"] == ["database did not answer (OperationalError)"]


def test_metrics_per_route_template_asks_outbox_escalations_leader(live, tmp_path: Path) -> None:
    client, container = live
    before = client.get("/metrics").text  # counters are per process: compare with what earlier tests left

    def grew(body: str, name: str, **labels: str) -> float:
        return (metric(body, name, **labels) or 0) - (metric(before, name, **labels) or 0)

    now = container.clock.now()
    doc = tmp_path / "dosing.md"
    doc.write_text(DOC)
    container.knowledge.ingest([doc], study="ALPHA", kind="protocol", now=now, progress=False)
    ask = client.post(
        "/api/ask", json={"question": "how long to observe after the injection?", "study": "ALPHA"}, headers=TOKEN
    )
    assert ask.status_code == 200 and not ask.json()["abstained"]
    no = client.post("/api/ask", json={"question": "is there parking validation?", "study": "ALPHA"}, headers=TOKEN)
    assert no.json()["abstained"]
    raised = client.post(
        "/api/escalations",
        json={"id": "esc-77", "site": "S03", "study": "ALPHA", "raised_by": "staff3", "summary": "fridge at 18 °C"},
        headers=TOKEN,
    )
    assert raised.status_code == 201
    assert client.get("/api/escalations/esc-77", headers=TOKEN).status_code == 200
    assert client.get("/api/escalations/esc-404", headers=TOKEN).status_code == 404
    # The outbox: clear what the escalation queued, then two rows due 10 and 2 minutes ago, one later, one failed.
    with transaction(container.factory) as s:
        s.execute(update(DeliveryRow).values(status="sent"))
        for key, minutes in (("a", -10), ("b", -2), ("c", 30), ("d", -60)):
            enqueue(
                s,
                dedupe_key=key,
                now=now,
                due_at=now + timedelta(minutes=minutes),
                channel="site",
                recipient="S03",
                kind="immediate",
                payload={},
            )
        s.execute(update(DeliveryRow).where(DeliveryRow.dedupe_key == "d").values(status="failed"))
    from escalation.models import EscalationRow

    with transaction(container.factory) as s:
        level = s.get(EscalationRow, "esc-77").level

    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    body = resp.text
    hist = "siteline_http_request_duration_seconds_count"
    assert grew(body, hist, method="POST", route="/api/ask") == 2
    assert grew(body, hist, method="GET", route="/api/escalations/{escalation_id}") == 2
    assert "esc-77" not in body and "esc-404" not in body  # ids never become label values
    route = "/api/escalations/{escalation_id}"
    assert grew(body, "siteline_http_requests_total", method="GET", route=route, status="404") == 1
    assert grew(body, "siteline_asks_total", surface="api", outcome="answered") == 1
    assert grew(body, "siteline_asks_total", surface="api", outcome="abstained") == 1
    assert metric(body, "siteline_outbox_backlog") == 2
    assert metric(body, "siteline_outbox_oldest_due_age_seconds") == 600
    assert metric(body, "siteline_outbox_failed") == 1
    assert metric(body, "siteline_outbox_deliveries", status="pending") == 3
    assert metric(body, "siteline_escalations_open", level=str(level)) == 1
    assert metric(body, "siteline_scheduler_leader") == 1 and metric(body, "siteline_database_up") == 1
    # The SQLite file's one writer: each answer stored and the escalation raised took it once at least.
    if container.engine.dialect.name == "sqlite":
        assert grew(body, "siteline_sqlite_writer_hold_seconds_count") >= 3
        assert grew(body, "siteline_sqlite_writer_wait_seconds_count") >= 3
    else:
        assert "siteline_sqlite_writer" not in body


def test_metrics_counters_are_per_process_but_a_fresh_app_still_serves(tmp_path: Path, db_url: str) -> None:
    container = make(tmp_path, db_url, SITELINE_RUN_SCHEDULER=False)
    body = TestClient(create_app(container)).get("/metrics").text
    assert metric(body, "siteline_scheduler_leader") == 0 and metric(body, "siteline_scheduler_running") == 0
    assert metric(body, "siteline_outbox_backlog") == 0
    container.engine.dispose()


def test_metrics_token_when_set_is_required_as_a_bearer_token(tmp_path: Path, db_url: str) -> None:
    """A scraper outside the internal network: SITELINE_METRICS_TOKEN closes /metrics to anyone without it."""
    container = make(tmp_path, db_url, SITELINE_RUN_SCHEDULER=False, SITELINE_METRICS_TOKEN="scrape-me")
    client = TestClient(create_app(container))
    refused = client.get("/metrics")
    assert refused.status_code == 401 and "SITELINE_METRICS_TOKEN" in refused.json()["detail"]
    assert "siteline_outbox_backlog" not in refused.text
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200 and metric(ok.text, "siteline_outbox_backlog") == 0
    assert client.get("/readyz").status_code in (200, 503)  # probes stay open: they carry no figures
    container.engine.dispose()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = False


def test_json_logs_carry_the_request_id_and_no_message_text(
    tmp_path: Path, db_url: str, capsys, restore_logging
) -> None:
    from siteline import logs

    container = make(tmp_path, db_url, SITELINE_RUN_SCHEDULER=False, SITELINE_LOG_FORMAT="json")
    logs.configure(container.settings)
    client = TestClient(create_app(container))
    secret_words = "patient Jane Roe fainted in the fridge room"
    resp = client.post(
        "/api/escalations",
        json={"id": "e-1", "site": "S03", "study": "ALPHA", "raised_by": "staff3", "summary": secret_words},
        headers={**TOKEN, "X-Request-ID": "req-abc.123"},
    )
    assert resp.status_code == 201 and resp.headers["x-request-id"] == "req-abc.123"
    junk = client.get("/api/escalations/e-1", headers={**TOKEN, "X-Request-ID": "<script>alert(1)</script>"})
    made_up = junk.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made_up)
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    request_lines = [entry for entry in lines if entry["logger"] == "siteline.http"]
    assert request_lines[0] == {
        **{k: request_lines[0][k] for k in ("ts", "duration_ms")},
        "level": "INFO",
        "logger": "siteline.http",
        "msg": f"POST /api/escalations 201 {request_lines[0]['duration_ms']:.1f}ms",
        "request_id": "req-abc.123",
        "method": "POST",
        "route": "/api/escalations",
        "status": 201,
    }
    assert request_lines[1]["request_id"] == made_up and request_lines[1]["route"] == "/api/escalations/{escalation_id}"
    assert "Jane" not in err and "fainted" not in err and "s3cret" not in err
    container.engine.dispose()


def test_api_docs_only_when_enabled(tmp_path: Path, db_url: str) -> None:
    closed = make(tmp_path, db_url, SITELINE_RUN_SCHEDULER=False)
    client = TestClient(create_app(closed))
    assert client.get("/docs").status_code == 404 and client.get("/openapi.json").status_code == 404
    closed.settings = closed.settings.model_copy(update={"api_docs": True})
    client = TestClient(create_app(closed))
    assert client.get("/docs").status_code == 200
    assert "/api/ask" in client.get("/openapi.json").json()["paths"]
    closed.engine.dispose()
