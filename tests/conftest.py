"""Shared fixtures: storage on SQLite and PostgreSQL, settings under a temp home, a container.

PostgreSQL tests run in a fresh schema each (so they can run side by side) and are skipped,
with a message saying so, only where no server answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from bench.cluster import PG_URL, fresh_pg_schema  # one way to make a throwaway schema, for tests and benches
from core.db import make_engine, make_session_factory
from core.settings import Settings
from siteline.container import Container, build
from siteline.database import migrate

_pg_state: dict[str, str | None] = {}


def pg_unavailable_reason() -> str | None:
    """None when the PostgreSQL test server answers, else why not (checked once)."""
    if "reason" not in _pg_state:
        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(text("SELECT 1"))
            eng.dispose()
            _pg_state["reason"] = None
        except Exception as exc:
            _pg_state["reason"] = (
                f"PostgreSQL at {PG_URL} did not answer ({type(exc).__name__}); set SITELINE_TEST_PG_URL"
            )
    return _pg_state["reason"]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema (dropped afterwards)."""
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    with fresh_pg_schema("t", PG_URL) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'siteline.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def factory(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url, _env_file=None)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build(settings)
    yield c
    c.engine.dispose()
