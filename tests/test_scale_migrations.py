"""Migrations at scale: many processes starting at once, the operator's `siteline db` commands, and
replicas that refuse an old schema when SITELINE_AUTO_MIGRATE is off."""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path

import pytest
from sqlalchemy import inspect

from core.db import make_engine


def _start_process(url: str, barrier, errors) -> None:  # runs in a forked child
    try:
        from siteline.database import migrate

        engine = make_engine(url)
        barrier.wait(timeout=60)
        migrate(engine)
        engine.dispose()
    except BaseException:
        errors.put(traceback.format_exc(limit=3))


@pytest.mark.postgres
def test_six_processes_migrate_a_fresh_postgresql_schema_at_once(pg_url: str) -> None:
    _six_at_once(pg_url)


def test_six_processes_migrate_a_fresh_sqlite_file_at_once(tmp_path: Path) -> None:
    """Found by a probe: two `siteline ingest` started together on a fresh SITELINE_HOME, one crashed on "table
    audit_log already exists" (pysqlite runs DDL outside transactions, so the file lock did not serialise them)."""
    _six_at_once(f"sqlite:///{tmp_path / 'fresh.db'}")


def _six_at_once(url: str) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier, errors = ctx.Barrier(6), ctx.Queue()
    procs = [ctx.Process(target=_start_process, args=(url, barrier, errors)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    crashes = []
    while not errors.empty():
        crashes.append(errors.get())
    assert crashes == [], crashes[0] if crashes else ""
    assert [p.exitcode for p in procs] == [0] * 6
    engine = make_engine(url)
    assert {"deliveries", "timers", "audit_log", "documents"} <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SITELINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SITELINE_DATABASE_URL", db_url)
    return db_url


def run(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from siteline.cli import app

    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_db_current_and_upgrade_for_operators(cli_env: str) -> None:
    from siteline.database import head_revision

    head = head_revision()
    code, out = run("db", "current")
    assert code == 1 and f"schema at empty, head is {head}: run `siteline db upgrade`" in out
    code, out = run("db", "upgrade")
    assert code == 0 and f"schema upgraded from empty to {head} (head)" in out
    code, out = run("db", "current")
    assert code == 0 and out.strip() == f"{head} (head)"
    code, out = run("db", "current", "--json")
    assert code == 0 and f'"current": "{head}"' in out and '"up_to_date": true' in out
    code, out = run("db", "upgrade")
    assert code == 0 and f"schema already at {head} (head)" in out


def test_auto_migrate_off_refuses_an_old_schema_with_what_to_do(cli_env: str, monkeypatch) -> None:
    from siteline.database import head_revision, migrate

    engine = make_engine(cli_env)
    migrate(engine, "0005")
    engine.dispose()
    monkeypatch.setenv("SITELINE_AUTO_MIGRATE", "false")
    for command in (["audit", "verify"], ["serve", "--port", "1"]):
        code, out = run(*command)
        assert code == 1, out
        assert f"the database schema is at revision 0005, but this Siteline needs revision {head_revision()}" in out
        assert "run `siteline db upgrade` first" in out
    engine = make_engine(cli_env)
    assert "slack_escalation_threads" not in inspect(engine).get_table_names()  # nothing migrated behind our back
    engine.dispose()
    assert run("db", "upgrade")[0] == 0
    code, out = run("audit", "verify")
    assert code == 0 and "audit trail intact" in out


def test_auto_migrate_off_on_an_empty_database_says_so(cli_env: str, monkeypatch) -> None:
    monkeypatch.setenv("SITELINE_AUTO_MIGRATE", "false")
    code, out = run("audit", "verify")
    assert code == 1 and "the database schema is empty (no Siteline tables)" in out


def test_a_bad_log_level_or_flag_is_a_clear_error_not_a_traceback(cli_env: str, monkeypatch) -> None:
    monkeypatch.setenv("SITELINE_LOG_LEVEL", "loud")
    code, out = run("audit", "verify")
    assert code == 2
    assert "bad setting: SITELINE_LOG_LEVEL: Value error, unknown log level 'loud'; use one of DEBUG" in out
    monkeypatch.setenv("SITELINE_LOG_LEVEL", "warning")
    monkeypatch.setenv("SITELINE_AUTO_MIGRATE", "sometimes")
    code, out = run("db", "current")
    assert code == 2 and "bad setting: SITELINE_AUTO_MIGRATE:" in out
