"""Migration 0004 creates exactly the chat tables the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from siteline.database import all_metadata

CHAT_TABLES = ("chat_events", "chat_answers", "open_questions")


def test_the_migration_matches_the_models(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.connection() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), all_metadata())
    assert [d for d in diffs if any(t in str(d) for t in CHAT_TABLES)] == []
    with factory() as session:
        names = set(session.get_bind().dialect.get_table_names(session.connection()))
    assert set(CHAT_TABLES) <= names
