"""Schema ownership: every package's tables, migrated with Alembic from one place.

Migrations run under a PostgreSQL advisory lock (see `migrations/env.py`), so replicas and CLI
calls may all start at once. With `SITELINE_AUTO_MIGRATE=false` processes only check that the
schema is at head and refuse to start otherwise; the operator runs `siteline db upgrade`.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection, Engine

from core.db import sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x517E114D  # pg advisory lock class: "schema migration" (with the schema, below)


class SchemaNotCurrent(RuntimeError):
    """The database schema is not the one this code needs, and migrating it is not this process's job."""


def all_metadata() -> MetaData:
    """Import every model module so `Base.metadata` knows all tables (for autogenerate and tests)."""
    # Each import registers its tables; explicit, so a broken model module fails loudly.
    import assistant.models  # noqa: F401
    import bot.email.models
    import bot.slack.models
    import bot.teams.models  # noqa: F401
    import core.models  # noqa: F401
    import dashboard.models  # noqa: F401
    import escalation.models  # noqa: F401
    import knowledge.models  # noqa: F401
    import triage.models  # noqa: F401
    from core.db import Base

    return Base.metadata


def alembic_config(engine: Engine | None = None, audit_key: bytes = b"") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    cfg.attributes["audit_key"] = audit_key  # a migration that creates the audit checkpoint signs it
    return cfg


def take_migration_lock(connection: Connection) -> None:
    """Serialise migrations per database schema on PostgreSQL (released when the transaction ends).

    SQLite: `migrate` holds a file lock instead (DDL runs outside SQLite's transactions there)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"), {"k": MIGRATION_LOCK_KEY}
        )


def migrate(engine: Engine, revision: str = "head", *, audit_key: bytes = b"") -> None:
    """Bring the schema up to `revision` (safe to call on every start; a no-op when current)."""
    with _sqlite_migration_lock(engine):
        command.upgrade(alembic_config(engine, audit_key), revision)


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file, one migrating process at a time (`flock` on `<file>.migrate`). pysqlite runs DDL outside
    transactions, so two commands started together on a fresh home both saw an empty schema and both created
    tables: one crashed on "table audit_log already exists". The second now waits and finds the schema at head."""
    database = sqlite_file(engine)
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".migrate"), "a+b") as lock:  # closing it lets go of the lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@cache
def head_revision() -> str:
    """The newest revision this code ships (read once: the files do not change under a running process)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None on an empty database). Read directly rather than through
    Alembic's MigrationContext, which logs a line each time (and /readyz asks often)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def require_current(engine: Engine) -> None:
    """Refuse, with what to do, when the schema is behind (or ahead of) this code."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    where = "empty (no Siteline tables)" if current is None else f"at revision {current}"
    raise SchemaNotCurrent(
        f"the database schema is {where}, but this Siteline needs revision {head}; "
        "SITELINE_AUTO_MIGRATE is off, so run `siteline db upgrade` first (or set SITELINE_AUTO_MIGRATE=true)"
    )
