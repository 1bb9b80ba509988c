"""Alembic environment: runs against the engine handed in by `core.db.migrate`."""

from alembic import context

from siteline.database import all_metadata

metadata = all_metadata()

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: build from the settings
    from core.audit import load_key
    from core.db import make_engine
    from core.settings import Settings

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    config.attributes["audit_key"] = load_key(settings)

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
