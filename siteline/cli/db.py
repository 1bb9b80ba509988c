"""`siteline db upgrade | current`: the schema, for operators who migrate once before starting replicas."""

from __future__ import annotations

import typer

from core.audit import load_key
from core.db import make_engine
from siteline.cli.common import fail, print_json, settings
from siteline.database import current_revision, head_revision, migrate


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Database schema: upgrade it, or show where it stands.", no_args_is_help=True)

    @group.command("upgrade")
    def upgrade() -> None:
        """Migrate the schema to the newest revision (safe to run from several places at once)."""
        config = settings()
        engine = make_engine(config.resolved_database_url)
        try:
            before = current_revision(engine)
            migrate(engine, audit_key=load_key(config))  # a revision that creates the audit checkpoint signs it
            after = current_revision(engine)
        finally:
            engine.dispose()
        if before == after:
            typer.echo(f"schema already at {after} (head)")
        else:
            typer.echo(f"schema upgraded from {before or 'empty'} to {after} (head)")

    @group.command("current")
    def current(as_json: bool = typer.Option(False, "--json", help="print one JSON object")) -> None:
        """Show the schema's revision and this code's head; exit 1 when they differ."""
        engine = make_engine(settings().resolved_database_url)
        try:
            revision = current_revision(engine)
        finally:
            engine.dispose()
        head = head_revision()
        if as_json:
            print_json({"current": revision, "head": head, "up_to_date": revision == head})
        elif revision == head:
            typer.echo(f"{revision} (head)")
        if revision != head:
            fail(f"schema at {revision or 'empty'}, head is {head}: run `siteline db upgrade`")

    app.add_typer(group, name="db")
