"""Process-wide Prometheus instruments that engines and the HTTP layer update.

They belong to no registry here: `siteline/api/metrics.py` registers them (with the figures it
reads from the database at scrape time) in the registry of each app it serves, so tests may build
any number of apps in one process without duplicate-name errors.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Seconds; asks on the 2-core reference machine sit between 20 ms and a few seconds under load.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_SECONDS = Histogram(
    "siteline_http_request_duration_seconds",
    "HTTP request latency by route template (never the raw path, which may hold ids).",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
REQUESTS = Counter(
    "siteline_http_requests",
    "HTTP responses by route template and status code.",
    ["method", "route", "status"],
    registry=None,
)
# The SQLite file's one writer (core.sqlite_writer): how long a transaction waited for it and held it.
# Under the cluster bench's mixed load it was held 85-90 % of the time, and an ask's answer waited for it
# longer than the ask took to compute (docs/scale.md, session 16); these show an operator when that happens.
WRITER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0)
SQLITE_WRITER_WAIT = Histogram(
    "siteline_sqlite_writer_wait_seconds",
    "SQLite only: time a transaction waited for the database file's one writer before its first write.",
    buckets=WRITER_BUCKETS,
    registry=None,
)
SQLITE_WRITER_HOLD = Histogram(
    "siteline_sqlite_writer_hold_seconds",
    "SQLite only: time from a transaction's first write to its commit or rollback; every other writer waits.",
    buckets=WRITER_BUCKETS,
    registry=None,
)
ASKS = Counter(
    "siteline_asks",
    "Questions answered from the documents or abstained on ('not found in the study documents').",
    ["surface", "outcome"],
    registry=None,
)


def count_ask(surface: str, *, abstained: bool) -> None:
    ASKS.labels(surface=surface, outcome="abstained" if abstained else "answered").inc()
