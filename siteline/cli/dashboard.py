"""`siteline dashboard link|sessions|revoke PERSON_ID`: sign-in links and the sessions they (or OIDC) start."""

from __future__ import annotations

import typer

from core.db import transaction
from core.directory import Directory
from dashboard import sessions
from dashboard.signin import SignInError, issue, parse_ttl
from siteline.cli.common import container, fail, print_json


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

    @group.command("sessions")
    def list_sessions(
        person_id: str = typer.Argument(..., help="directory person id"),
        as_json: bool = typer.Option(False, "--json", help="one JSON object"),
    ) -> None:
        """A person's dashboard sessions, newest first: how they signed in, when, until when, and whether live."""
        c = container()
        with transaction(c.factory) as session:
            found = sessions.listing(session, person_id=person_id, now=c.clock.now())
        if as_json:
            print_json({"person": person_id, "sessions": [s.to_json() for s in found]})
            return
        if not found:
            typer.echo(f"{person_id} has no dashboard sessions")
        for s in found:
            typer.echo(
                f"#{s.id}  {s.method:<4}  signed in {s.created_at.isoformat()}  "
                f"until {s.expires_at.isoformat()}  {s.status}"
            )

    @group.command("revoke")
    def revoke(person_id: str = typer.Argument(..., help="directory person id")) -> None:
        """End every live session of a person at once (and cancel their unused links); audited."""
        c = container()
        with transaction(c.factory) as session:
            known = Directory(session).person(person_id) is not None or bool(
                sessions.listing(session, person_id=person_id, now=c.clock.now())
            )
            if not known:
                fail(f"person {person_id!r} is not in the directory and has no dashboard sessions", code=2)
            done = sessions.revoke(session, person_id=person_id, now=c.clock.now(), actor="cli")
        typer.echo(f"ended {done.sessions} session(s) of {person_id}; cancelled {done.links} unused sign-in link(s)")

    app.add_typer(group, name="dashboard")
