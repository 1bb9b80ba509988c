"""What a write transaction does while it holds the database's write lock (SQLite's one writer lock, and on
PostgreSQL the audit checkpoint's row lock): only its writes. Every read left after the first write is a
round trip made while every other writer of the file, or every other audit appender, waits; under the
cluster bench's load each cost several milliseconds (docs/scale.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from core import audit
from core.db import make_engine, make_session_factory, transaction
from core.directory import Directory
from core.models import AuditRow
from escalation import service
from siteline.database import migrate
from tests.test_escalation_support import seed

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # a Wednesday: level 1 is told at once
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)", re.I)
DIRECTORY_TABLES = re.compile(r"\bFROM (persons|sites|chat_identities)\b", re.I)


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'siteline.db'}")
    migrate(engine)
    f = make_session_factory(engine)
    seed(f)
    yield f
    engine.dispose()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def _log(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", _log)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _log)


def _after_first_write(seen: list[str]) -> list[str]:
    first = next(i for i, s in enumerate(seen) if WRITE.match(s))
    return seen[first:]


def _raise(factory: sessionmaker[Session], n: int = 0, severity: str | None = None) -> str:
    with transaction(factory) as s:
        esc = service.raise_escalation(
            s, site="S01", study="ALPHA", raised_by="staff1", summary=f"the IWRS will not randomise ({n})",
            category="operational", severity=severity, now=NOW + timedelta(seconds=n), source="api",
        )  # fmt: skip
        return esc.id


def test_raising_an_escalation_reads_the_directory_before_its_first_write(factory: sessionmaker[Session]) -> None:
    engine = factory.kw["bind"]
    with statements(engine) as seen:
        esc_id = _raise(factory)
    held = _after_first_write(seen)
    assert not [s for s in held if DIRECTORY_TABLES.search(s)], "directory reads while holding the write lock"
    # the audit chain is appended once, at commit: one checkpoint read for the raise's entries together
    assert sum(1 for s in held if "FROM audit_head" in s) == 1
    with factory() as s:
        actions = s.execute(select(AuditRow.action).where(AuditRow.subject == esc_id).order_by(AuditRow.id))
        assert [a for (a,) in actions] == ["escalation.raise", "escalation.notify"]
        assert audit.verify(s).ok


def test_acknowledging_reads_its_notices_before_its_first_write(factory: sessionmaker[Session]) -> None:
    esc_id = _raise(factory, severity="critical")  # levels 1 to 3 told at once: several notices to look at
    engine = factory.kw["bind"]
    with statements(engine) as seen, transaction(factory) as s:
        service.ack(s, escalation_id=esc_id, by="cra1", now=NOW + timedelta(minutes=5))
    held = _after_first_write(seen)
    assert not [s for s in held if re.search(r"FROM escalation_notices JOIN deliveries", s, re.I)]
    assert not [s for s in held if DIRECTORY_TABLES.search(s)]
    with factory() as s:
        view = service.to_view(service.get(s, esc_id), NOW)
        assert view["status"] == "acknowledged"
        actions = [a for (a,) in s.execute(select(AuditRow.action).where(AuditRow.subject == esc_id))]
        # nothing was delivered yet (no scheduler here): the waiting notices are dropped, then the ack
        assert actions[-1] == "escalation.ack" and actions.count("escalation.notice_dropped") >= 2
        assert audit.verify(s).ok


def test_a_directory_reads_each_person_site_and_role_once(factory: sessionmaker[Session]) -> None:
    engine = factory.kw["bind"]
    with factory() as s, statements(engine) as seen:
        directory = Directory(s)
        first = directory.person("cra1")
        assert directory.person("cra1") is first and first is not None and first.name == "Claire CRA"
        assert directory.site("S01") is directory.site("S01")
        assert [p.person_id for p in directory.recipients("cra", site="S01", study="ALPHA")] == ["cra1"]
        assert directory.recipients("cra", site="S04", study="ALPHA") == []  # S04 has no CRA
        assert directory.person("nobody") is None and directory.person("nobody") is None
    # a person, a site and a role's people: each its row(s) and chat identities; an unknown person: its row
    assert len([q for q in seen if DIRECTORY_TABLES.search(q)]) == 7
