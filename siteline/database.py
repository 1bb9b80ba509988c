"""Schema ownership: every package's tables, migrated with Alembic from one place."""

from __future__ import annotations

import contextlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def all_metadata() -> MetaData:
    """Import every model module so `Base.metadata` knows all tables (for autogenerate and tests)."""
    import core.models  # noqa: F401
    import knowledge.models  # noqa: F401
    from core.db import Base

    optional_models = (
        "triage.models",
        "escalation.models",
        "assistant.models",
        "bot.models",
        "bot.teams.models",
        "bot.slack.models",
        "dashboard.models",
    )
    for optional in optional_models:
        with contextlib.suppress(ModuleNotFoundError):
            __import__(optional)
    return Base.metadata


def alembic_config(engine: Engine, audit_key: bytes = b"") -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    cfg.attributes["audit_key"] = audit_key  # a migration that creates the audit checkpoint signs it
    return cfg


def migrate(engine: Engine, revision: str = "head", *, audit_key: bytes = b"") -> None:
    """Bring the schema up to `revision` (safe to call on every start; a no-op when current)."""
    command.upgrade(alembic_config(engine, audit_key), revision)
