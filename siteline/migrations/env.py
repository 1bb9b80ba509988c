"""Alembic environment: runs against the engine handed in by `siteline.database.migrate`.

On PostgreSQL the whole upgrade runs in one transaction that first takes a transaction-level
advisory lock (one per schema), so any number of processes may start at once on a fresh
database: the first migrates, the others wait, then find the schema at head and do nothing.
"""

from alembic import context

from siteline.database import all_metadata, take_migration_lock

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
    take_migration_lock(connection)
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    context.run_migrations()
