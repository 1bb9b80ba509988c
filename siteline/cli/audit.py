"""`siteline audit verify`: check that the audit trail's hash chain is unbroken."""

from __future__ import annotations

import typer

from core.audit import verify
from core.db import transaction
from siteline.cli.common import container, fail


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect the append-only audit trail.", no_args_is_help=True)

    @group.command("verify")
    def verify_() -> None:
        """Recompute every row's hash; exit 1 at the first row that does not match."""
        with transaction(container().factory) as session:
            report = verify(session)
        if not report.ok:
            fail(f"audit row {report.first_bad_id}: {report.problem}")
        typer.echo(f"audit trail intact: {report.rows} rows")

    app.add_typer(group, name="audit")
