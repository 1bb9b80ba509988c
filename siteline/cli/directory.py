"""`siteline directory import FILE`: who is who (sites, people, chat identities)."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.exc import IntegrityError

from core import audit
from core.db import transaction
from core.directory import DirectoryError, check, load_file, upsert
from siteline.cli.common import container, fail


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Manage the directory of sites and people.", no_args_is_help=True)

    @group.command("import")
    def import_(file: Path = typer.Argument(..., help="YAML (sites:, people:) or JSONL (site/person lines)")) -> None:
        """Import or update sites and people; re-importing the same file is safe."""
        try:
            sites, persons = load_file(file)
        except DirectoryError as exc:
            fail(str(exc), code=2)
        c = container()
        try:
            with transaction(c.factory) as session:  # all of the file or nothing
                check(session, sites, persons)
                n_sites, n_persons = upsert(session, sites, persons)
                audit.record(
                    session,
                    now=c.clock.now(),
                    actor="cli",
                    action="directory.import",
                    subject=str(file.name),
                    detail={"sites": n_sites, "persons": n_persons},
                )
        except DirectoryError as exc:
            fail(f"{file.name}: {exc}; nothing was imported", code=2)
        except IntegrityError as exc:  # a conflict `check` did not foresee: still no traceback, still nothing
            fail(f"{file.name}: conflicts with the stored directory ({type(exc.orig).__name__}); nothing was imported")
        typer.echo(f"imported {n_sites} sites and {n_persons} people from {file}")

    app.add_typer(group, name="directory")
