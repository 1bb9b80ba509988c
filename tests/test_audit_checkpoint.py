"""The audit chain's keyed checkpoint: deleting the newest rows or truncating the log is caught (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from core import audit
from core.db import make_engine, make_session_factory, transaction
from core.models import AuditHeadRow, AuditRow
from core.settings import Settings
from siteline.cli import audit as audit_cli
from siteline.container import build
from siteline.database import migrate

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _append(factory: sessionmaker[Session], n: int) -> None:
    with transaction(factory) as s:
        for i in range(n):
            audit.record(s, now=T0 + timedelta(minutes=i), actor="u1", action="ask", subject=f"q{i}")


def _drop_row_guards(engine: Engine) -> None:
    """What an attacker with table-owner rights does first."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def _verify(factory: sessionmaker[Session]) -> audit.ChainReport:
    with transaction(factory) as s:
        return audit.verify(s)


def test_deleting_the_last_rows_is_caught(factory: sessionmaker[Session]) -> None:
    _append(factory, 20)
    assert _verify(factory) == audit.ChainReport(20, True)
    engine = factory.kw["bind"]
    _drop_row_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id > 17"))
    report = _verify(factory)
    assert not report.ok
    assert "records 20 rows but the chain has 17" in report.problem


def test_emptying_the_log_is_refused_and_caught(factory: sessionmaker[Session]) -> None:
    _append(factory, 5)
    engine = factory.kw["bind"]
    wipe = "TRUNCATE audit_log" if engine.dialect.name == "postgresql" else "DELETE FROM audit_log"
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(wipe))
    _drop_row_guards(engine)
    with engine.begin() as conn:
        conn.execute(text(wipe))
    report = _verify(factory)
    assert (report.ok, report.rows) == (False, 0)
    assert "records 5 rows but the chain has 0" in report.problem


def test_the_checkpoint_only_moves_forward_and_cannot_be_forged_without_the_key(
    factory: sessionmaker[Session],
) -> None:
    _append(factory, 4)
    engine = factory.kw["bind"]
    for stmt in ("UPDATE audit_head SET row_count = 2", "DELETE FROM audit_head"):
        with pytest.raises(DBAPIError, match="only moves forward"), engine.begin() as conn:
            conn.execute(text(stmt))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="only moves forward"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_head"))
    _drop_row_guards(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id > 2"))
        last = conn.execute(text("SELECT hash FROM audit_log WHERE id = 2")).scalar_one()
        conn.execute(text("UPDATE audit_head SET row_count = 5"))  # forward is allowed; forge a new head
    forged = audit.head_mac(b"guessed key", 2, last)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_head_no_rewind"))
        conn.execute(text("UPDATE audit_head SET row_count = 2, last_hash = :h, mac = :m"), {"h": last, "m": forged})
    report = _verify(factory)
    assert not report.ok
    assert "signature does not match" in report.problem


def test_an_append_after_deleting_the_checkpoint_is_refused(factory: sessionmaker[Session]) -> None:
    _append(factory, 1)
    engine = factory.kw["bind"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_head DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_head_no_delete"))
        conn.execute(text("DELETE FROM audit_head"))
    with pytest.raises(audit.AuditTampered):
        _append(factory, 1)
    assert "checkpoint row is missing" in _verify(factory).problem


def test_the_migration_signs_a_checkpoint_for_rows_already_stored(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine, "0006")
    prev = audit.GENESIS
    with engine.begin() as conn:  # rows written before the checkpoint existed (the 0006 schema)
        for i in range(3):
            at = T0 + timedelta(minutes=i)
            digest = audit._digest(prev, at, "u1", "ask", f"q{i}", {})
            conn.execute(
                AuditRow.__table__.insert().values(
                    at=at, actor="u1", action="ask", subject=f"q{i}", detail={}, prev_hash=prev, hash=digest
                )
            )
            prev = digest
    migrate(engine, audit_key=b"k1")
    keyed = make_session_factory(engine, audit_key=b"k1")
    assert _verify(keyed) == audit.ChainReport(3, True)
    _append(keyed, 1)
    with keyed() as s:
        head = s.execute(select(AuditHeadRow)).scalar_one()
        assert (head.row_count, head.last_hash) == (
            4,
            s.execute(select(AuditRow.hash).where(AuditRow.id == 4)).scalar(),
        )
    assert "SITELINE_AUDIT_KEY differs" in _verify(make_session_factory(engine, audit_key=b"other")).problem
    engine.dispose()


def test_cli_verify_fails_after_the_last_rows_are_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SITELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("SITELINE_AUDIT_KEY", raising=False)
    container = build(Settings(_env_file=None))
    _append(container.factory, 20)
    assert (tmp_path / "home" / "audit.key").stat().st_mode & 0o077 == 0  # the key is the owner's only
    app = typer.Typer()
    audit_cli.register(app)
    app.command("noop")(lambda: None)
    ok = CliRunner().invoke(app, ["audit", "verify"])
    assert (ok.exit_code, ok.output.strip()) == (0, "audit trail intact: 20 rows")
    _drop_row_guards(container.engine)
    with container.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id > 17"))
    container.engine.dispose()
    bad = CliRunner().invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "records 20 rows but the chain has 17" in bad.output


def test_a_long_lived_session_appends_from_the_stored_checkpoint(factory: sessionmaker[Session]) -> None:
    with factory() as first:
        audit.record(first, now=T0, actor="u1", action="ask")
        first.commit()
        _append(factory, 2)  # another unit of work appends meanwhile
        audit.record(first, now=T0, actor="u1", action="ask", subject="late")
        first.commit()
    assert _verify(factory) == audit.ChainReport(4, True)


def test_appends_from_many_threads_at_once_keep_one_chain(factory: sessionmaker[Session]) -> None:
    """Found by CI: on SQLite a transaction whose first write is the audit row read the checkpoint
    outside any lock (pysqlite only begins at the first write), so two appenders chained to the same
    row and the second was refused as a rewind. Each append must hold the write lock while it reads."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    threads, per_thread = 6, 8
    barrier = threading.Barrier(threads)

    def appender(n: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            with transaction(factory) as s:
                s.execute(select(AuditRow.id).limit(1)).all()  # a read first, as most callers do
                audit.record(s, now=T0 + timedelta(seconds=i), actor=f"u{n}", action="ask", subject=f"q{i}")

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(appender, n) for n in range(threads)]:
            future.result()
    assert _verify(factory) == audit.ChainReport(threads * per_thread, True)


def test_entries_are_chained_when_their_transaction_commits_and_dropped_when_it_rolls_back(
    factory: sessionmaker[Session],
) -> None:
    """`audit.record` appends at commit (the appender's lock held for the commit alone): in the order recorded,
    with the detail as it was when recorded, and not at all when the transaction rolls back."""
    detail = {"step": 1}
    with transaction(factory) as s:
        audit.record(s, now=T0, actor="u1", action="first", detail=detail)
        detail["step"] = 2  # the caller's dict changes after: the entry keeps what it was told
        audit.record(s, now=T0, actor="u1", action="second")
        assert s.execute(select(AuditRow.id)).first() is None  # nothing appended before the commit
    with pytest.raises(RuntimeError), transaction(factory) as s:
        audit.record(s, now=T0, actor="u1", action="rolled back")
        raise RuntimeError("the change this entry describes failed")
    with factory() as s:  # the same session object reused after a rollback carries nothing over
        audit.record(s, now=T0, actor="u1", action="third")
        s.rollback()
        audit.record(s, now=T0, actor="u1", action="fourth")
        s.commit()
    with factory() as s:
        rows = list(s.execute(select(AuditRow).order_by(AuditRow.id)).scalars())
        assert [(r.action, r.detail) for r in rows] == [("first", {"step": 1}), ("second", {}), ("fourth", {})]
    assert _verify(factory) == audit.ChainReport(3, True)
