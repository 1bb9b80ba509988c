"""Storage foundations on both databases: migrations, UTC round-trips, the audit chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from core import audit
from core.db import transaction
from core.models import AuditRow, DeliveryRow
from core.outbox import enqueue

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_migrations_create_every_table(factory):
    engine = factory.kw["bind"]
    names = set(inspect(engine).get_table_names())
    assert {
        "documents",
        "document_versions",
        "chunks",
        "questions",
        "answers",
        "feedback",
        "audit_log",
        "sites",
        "persons",
        "deliveries",
        "timers",
    } <= names


def test_datetimes_come_back_aware_and_in_utc(factory):
    paris = timezone(timedelta(hours=1))
    with transaction(factory) as s:
        enqueue(
            s,
            dedupe_key="k1",
            now=T0,
            due_at=datetime(2026, 3, 2, 9, 30, tzinfo=paris),
            channel="site",
            recipient="S01",
            kind="digest",
            payload={},
        )
    with transaction(factory) as s:
        row = s.execute(select(DeliveryRow)).scalar_one()
    assert row.due_at == datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    assert row.due_at.tzinfo is not None


def test_enqueue_is_idempotent_by_key(factory):
    with transaction(factory) as s:
        assert enqueue(
            s, dedupe_key="same", now=T0, due_at=T0, channel="site", recipient="S01", kind="immediate", payload={"n": 1}
        )
        assert not enqueue(
            s, dedupe_key="same", now=T0, due_at=T0, channel="site", recipient="S01", kind="immediate", payload={"n": 2}
        )
    with transaction(factory) as s:
        rows = s.execute(select(DeliveryRow)).scalars().all()
    assert [r.payload for r in rows] == [{"n": 1}]


def test_audit_chain_verifies_and_detects_tampering(factory):
    with transaction(factory) as s:
        for i in range(3):
            audit.record(s, now=T0 + timedelta(minutes=i), actor="u1", action="ask", subject=f"q{i}", detail={"i": i})
    with transaction(factory) as s:
        report = audit.verify(s)
        assert report.ok and report.rows == 3
        rows = s.execute(select(AuditRow).order_by(AuditRow.id)).scalars().all()
        assert rows[1].prev_hash == rows[0].hash
        assert rows[0].at.tzinfo is not None

    engine = factory.kw["bind"]
    # The database itself refuses edits and deletes.
    for stmt in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(stmt))


def test_audit_verify_names_an_edited_row(factory):
    with transaction(factory) as s:
        audit.record(s, now=T0, actor="u1", action="ask", subject="q1")
        audit.record(s, now=T0, actor="u1", action="ask", subject="q2")
    engine = factory.kw["bind"]
    # Simulate tampering by someone who dropped the trigger first.
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE subject = 'q1'"))
    with transaction(factory) as s:
        report = audit.verify(s)
    assert not report.ok
    assert "edited" in report.problem
