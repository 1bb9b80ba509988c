"""Rows queued for the commit (`core.pending`): an escalation's raise takes SQLite's writer lock only to
write what it decided, a transaction still reads its own queued rows, and a rollback writes none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core import outbox
from core.db import make_engine, make_session_factory, transaction
from core.models import AuditRow, DeliveryRow, TimerRow
from escalation import service
from escalation.engine import timer_key
from escalation.models import EscalationRow, EventRow, NoticeRow
from scheduler import timers
from siteline.database import migrate
from tests.test_escalation_support import seed

NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # a Monday, in everyone's working hours


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Engine, sessionmaker[Session]]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'siteline.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    seed(factory)
    yield engine, factory
    engine.dispose()


def _holding(session: Session) -> bool:
    return bool(getattr(session.connection().connection.dbapi_connection, "holding", False))


def _writes_while(engine: Engine) -> list[str]:
    """Every write statement the engine runs from now on, in order."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(" ".join(statement.split()[:3]))

    return seen


def test_a_raise_decides_everything_before_it_takes_the_writer_lock(
    sqlite_file: tuple[Engine, sessionmaker[Session]],
) -> None:
    engine, factory = sqlite_file
    writes = _writes_while(engine)
    with transaction(factory) as session:
        esc = service.raise_escalation(
            session, site="S01", study="ALPHA", raised_by="staff1", summary="Fridge at 14 °C, kits quarantined",
            category="ip_supply", severity="high", now=NOW, escalation_id="e1",
        )  # fmt: skip
        assert esc.status == "notified"
        assert writes == [] and not _holding(session)  # nothing written yet: other writers are not kept waiting
    assert "INSERT INTO deliveries" in writes and "INSERT INTO timers" in writes
    assert writes[-2:] == ["INSERT INTO audit_log"] * 2  # the audit append (its own lock on PostgreSQL) comes last
    with transaction(factory) as session:
        assert session.get(EscalationRow, "e1") is not None
        kinds = session.execute(select(EventRow.kind).where(EventRow.escalation_id == "e1").order_by(EventRow.id))
        assert list(kinds.scalars()) == ["raise", "notify"]
        notices = session.execute(select(NoticeRow.person_id).where(NoticeRow.escalation_id == "e1")).scalars()
        assert list(notices) == ["cra1", "srm1"]  # S01 is a strategic site: its SRM is told at level 1 too
        keys = set(session.execute(select(DeliveryRow.dedupe_key)).scalars())
        assert keys == {"esc:e1:L1:cra1", "esc:e1:L1:srm1", "esc:e1:site:raise"}
        timer = session.execute(select(TimerRow).where(TimerRow.key == timer_key("e1", 1))).scalar_one()
        assert timer.status == "pending" and timer.payload["escalation_id"] == "e1"
        actions = session.execute(select(AuditRow.action).where(AuditRow.subject == "e1").order_by(AuditRow.id))
        assert list(actions.scalars()) == ["escalation.raise", "escalation.notify"]


def test_an_ack_drops_only_notices_not_yet_out_in_one_statement(
    sqlite_file: tuple[Engine, sessionmaker[Session]],
) -> None:
    engine, factory = sqlite_file
    with transaction(factory) as session:
        service.raise_escalation(
            session, site="S02", study="ALPHA", raised_by="staff2", summary="A participant died at home yesterday",
            category="safety", severity="critical", now=NOW, escalation_id="e2",
        )  # fmt: skip
    with transaction(factory) as session:
        notices = session.execute(select(NoticeRow.dedupe_key).where(NoticeRow.escalation_id == "e2")).scalars()
        keys = sorted(notices)
        assert len(keys) >= 2
        sent = session.execute(select(DeliveryRow).where(DeliveryRow.dedupe_key == keys[0])).scalar_one()
        sent.status = "sent"
    writes = _writes_while(engine)
    with transaction(factory) as session:
        service.ack(session, escalation_id="e2", by="sm1", now=NOW + timedelta(minutes=5))
    assert sum(w.startswith("UPDATE deliveries") for w in writes) == 1
    with transaction(factory) as session:
        statuses = {k: s for k, s in session.execute(select(DeliveryRow.dedupe_key, DeliveryRow.status)).tuples()}
        assert statuses[keys[0]] == "sent" and all(statuses[k] == "cancelled" for k in keys[1:])
        timer = session.execute(select(TimerRow.status).where(TimerRow.key.startswith("escalation:e2:"))).scalar()
        assert timer == "cancelled"
        dropped = session.execute(
            select(func.count()).where(EventRow.escalation_id == "e2", EventRow.kind == "notice_dropped")
        ).scalar()
        assert dropped == len(keys) - 1


def _queue(session: Session, key: str) -> None:
    outbox.enqueue(
        session, at_commit=True, dedupe_key=key, now=NOW, due_at=NOW, channel="site", recipient="S01",
        kind="escalation_update", payload={"text": key},
    )  # fmt: skip


def test_a_transaction_reads_the_rows_it_queued(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        _queue(session, "k1")
        timers.schedule_at_commit(session, key="t1", kind="x", due_at=NOW, payload={})
        found = session.execute(select(DeliveryRow.dedupe_key).where(DeliveryRow.dedupe_key == "k1")).scalar()
        assert found == "k1"  # a query writes the queued rows first, as the ORM's autoflush does
        assert timers.next_due(session) == NOW
        _queue(session, "k1")  # the same key again: still one row, as with `enqueue`
    with transaction(factory) as session:
        assert session.execute(select(func.count()).select_from(DeliveryRow)).scalar() == 1


def test_a_rolled_back_transaction_writes_none_of_its_queued_rows(factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), transaction(factory) as session:
        _queue(session, "lost")
        raise RuntimeError("the unit of work failed")
    with factory() as session:
        _queue(session, "kept")
        session.rollback()  # the queued row goes with the transaction it was queued in
        session.commit()
    with transaction(factory) as session:
        assert session.execute(select(func.count()).select_from(DeliveryRow)).scalar() == 0
