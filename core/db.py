"""Storage: one SQLAlchemy engine per process, sessions per unit of work, Alembic migrations.

SQLite (embedded default) and PostgreSQL (at scale) run the same code; the few dialect
differences (row claiming, advisory locks) are handled where they are used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core import sqlite_writer
from core.sqlite_writer import LockedConnection

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


AUDIT_KEY_INFO = "audit_key"  # the Session.info entry core.audit signs with


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always hands back aware UTC values (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine with the settings each dialect needs to be safe under concurrency.

    `hide_parameters`: a failed statement's error (and so any traceback or log line) never shows
    the bound values, which are message text, names and ids."""
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30, "factory": LockedConnection})
        engine = create_engine(url, **kwargs)
        if (database := sqlite_file(engine)) is not None:
            sqlite_writer.install(engine, database)  # writers queue in the kernel, not in SQLite's sleeps

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url and url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine, *, audit_key: bytes = b"") -> sessionmaker[Session]:
    """Sessions for one engine; `audit_key` (kept outside the database) signs the audit chain's checkpoint."""
    return sessionmaker(engine, expire_on_commit=False, info={AUDIT_KEY_INFO: audit_key})


def hold_write_lock(session: Session) -> None:
    """On SQLite, take the database's write lock now (`BEGIN IMMEDIATE`), so what this transaction reads
    and the writes that follow are one step: no other connection, in this process or another one on the
    same file, writes in between. It is what row locks (`FOR UPDATE`) do for a claim on PostgreSQL, where
    this does nothing. Call it first in the transaction; keep such transactions short (no network calls
    inside), since every writer of the file waits for them."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:  # already writing: the lock is held
        if isinstance(raw, LockedConnection):
            raw.take_writer_lock()
        raw.execute("BEGIN IMMEDIATE")


def sqlite_file(engine: Engine) -> Path | None:
    """The database file of a file-backed SQLite engine (None for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return None
    return Path(engine.url.database)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together or not at all: nothing is half-stored."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
