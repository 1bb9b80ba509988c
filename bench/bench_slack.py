"""Slack bot speed: how fast Slack gets its 200, and how long until the answer is in the thread.

    python -m bench.bench_slack

The real app (FastAPI + bolt), the real PHI guard and knowledge engine on a two-study corpus,
SQLite, a local fake Slack Web API; N signed mentions sent one after another. Ack = the HTTP
round trip of the event (Slack's limit is 3 s); answer = from sending the event until the fake
Slack recorded the reply in the thread. Prints p50/p95/max in milliseconds.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

N = 40
QUESTIONS = [
    "How soon must serious adverse events be reported to the sponsor?",
    "When must pregnancies be reported?",
    "What is the primary objective?",
    "Pt John Smith MRN 4821337 had an SAE, how soon do I report it?",
]


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
        "max": round(ordered[-1], 1),
    }


def main() -> dict[str, dict[str, float]]:
    from fastapi.testclient import TestClient

    from core.settings import Settings
    from siteline.container import build
    from siteline.server import create_app
    from tests.chat_world import load_directory, write_corpus
    from tests.fake_slack import FakeSlack, SlackPayloads

    fake = FakeSlack().start()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:  # Chroma may still hold files
        root = Path(tmp)
        settings = Settings(
            _env_file=None,
            SITELINE_HOME=root / "home",
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_SIGNING_SECRET="bench",
            SLACK_API_URL=fake.api_url,
            SITELINE_RUN_SCHEDULER=False,
        )
        container = build(settings)
        load_directory(container.factory)
        orion, vega = write_corpus(root / "corpus")
        now = datetime.now(UTC)
        container.knowledge.ingest([orion], study="ORION", kind="protocol", version="3.0", now=now, progress=False)
        container.knowledge.ingest([vega], study="VEGA", kind="protocol", version="1.1", now=now, progress=False)
        _ = container.assistant.guard  # loaded at start by the warm-up in serve; not part of a question
        slack = SlackPayloads("bench", fake)
        acks, answers = [], []
        with TestClient(create_app(container)) as client:
            for i in range(N):
                ts = f"5000.{i:04d}"
                body = slack.mention("U_ANNA", "C_S01", QUESTIONS[i % len(QUESTIONS)], ts=ts)
                t0 = time.perf_counter()
                resp = client.post("/slack/events", content=body, headers=slack.headers(body, "application/json"))
                acks.append((time.perf_counter() - t0) * 1000)
                assert resp.status_code == 200
                fake.wait_for("chat.postMessage", timeout=60, where=lambda c, ts=ts: c.args.get("thread_ts") == ts)
                answers.append((time.perf_counter() - t0) * 1000)
        container.engine.dispose()
    fake.stop()
    result = {"ack_ms": _percentiles(acks), "answer_ms": _percentiles(answers)}
    print(f"slack bot, {N} mentions (real PHI guard + knowledge engine, SQLite):")
    for name, figures in result.items():
        print(f"  {name:10} p50 {figures['p50']:8.1f}  p95 {figures['p95']:8.1f}  max {figures['max']:8.1f}")
    return result


if __name__ == "__main__":
    main()
