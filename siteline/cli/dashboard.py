"""`siteline dashboard link PERSON_ID [--ttl 15m]`: print a one-time dashboard sign-in URL."""

from __future__ import annotations

import typer

from core.db import transaction
from dashboard.signin import SignInError, issue, parse_ttl
from siteline.cli.common import container, fail


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The sponsor's web dashboard.", no_args_is_help=True)

    @group.command("link")
    def link(
        person_id: str = typer.Argument(..., help="directory person id (a CRA, study manager, head of clinops...)"),
        ttl: str = typer.Option("15m", "--ttl", help="how long the link stays valid: 90s, 15m, 2h, 1d"),
    ) -> None:
        """Print a sign-in URL that works once (the same link the bot sends by DM)."""
        try:
            duration = parse_ttl(ttl)
            c = container()
            with transaction(c.factory) as session:
                url = issue(
                    session,
                    person_id=person_id,
                    ttl=duration,
                    now=c.clock.now(),
                    public_url=c.settings.public_url,
                    actor="cli",
                )
        except SignInError as exc:
            fail(str(exc), code=2)
        typer.echo(url)

    app.add_typer(group, name="dashboard")
