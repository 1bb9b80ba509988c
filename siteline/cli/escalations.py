"""`siteline escalations list|show|raise|ack|resolve|path|policy`: the escalation engine from a shell.

Same service functions as the chat and HTTP surfaces, one transaction per command; a refused
command stores nothing and exits non-zero with the reason (2 for bad input, 1 otherwise).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from core.db import transaction
from escalation import service
from escalation.policy import CATEGORIES, SEVERITIES, PolicyError, load_policy_file
from siteline import phi
from siteline.cli.common import container, fail, print_json


def _refuse(exc: service.EscalationError) -> None:
    fail(str(exc), code=2 if exc.status == 422 else 1)


def _line(v: dict[str, Any]) -> str:
    where = f"level {v['level']}/{v['levels']}" if v["level"] else "waiting"
    extra = f" hands on {v['hands_on_at']}" if v["hands_on_at"] else ""
    extra += f" HALTED: {v['halted']}" if v["halted"] else ""
    return (
        f"{v['id']}  {v['status']:<12} {v['site']:<8} {v['study']:<12} {v['category']}/{v['severity']}"
        f"  {where}{extra}  {v['summary'][:60]}"
    )


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Raise, acknowledge, resolve and list escalations.", no_args_is_help=True)

    @group.command("list")
    def list_(
        site: str | None = typer.Option(None, "--site", help="only this site"),
        study: str | None = typer.Option(None, "--study", help="only this study"),
        all_: bool = typer.Option(False, "--all", help="include acknowledged and resolved (needs --site)"),
        as_json: bool = typer.Option(False, "--json", help="one JSON object"),
    ) -> None:
        """Open escalations (oldest first), or all of a site's with --all."""
        if all_ and not site:
            fail("--all needs --site", code=2)
        c = container()
        now = c.clock.now()
        with transaction(c.factory) as session:
            if all_ and site:
                rows = [
                    r for r in service.list_for_site(session, site=site, now=now) if not study or r["study"] == study
                ]
            else:
                rows = service.list_open(session, now=now, study=study, site=site)
        if as_json:
            print_json({"escalations": rows})
            return
        if not rows:
            typer.echo("no escalations")
        for row in rows:
            typer.echo(_line(row))

    @group.command("show")
    def show(escalation_id: str = typer.Argument(...)) -> None:
        """One escalation with its full history (JSON)."""
        c = container()
        try:
            with transaction(c.factory) as session:
                esc = service.get(session, escalation_id)
                print_json(
                    {**service.to_view(esc, c.clock.now()), "history": service.history(session, escalation_id=esc.id)}
                )
        except service.EscalationError as exc:
            _refuse(exc)

    @group.command("raise")
    def raise_(
        site: str = typer.Option(..., "--site"),
        study: str = typer.Option(..., "--study"),
        by: str = typer.Option(..., "--by", help="person_id of the raiser (must be on the site and study)"),
        summary: str = typer.Option(..., "--summary", help="what is wrong, in the site's words"),
        category: str | None = typer.Option(None, "--category", help=f"one of {', '.join(CATEGORIES)}; inferred"),
        severity: str | None = typer.Option(None, "--severity", help=f"one of {', '.join(SEVERITIES)}; inferred"),
        escalation_id: str | None = typer.Option(None, "--id", help="an id of your own (default: generated)"),
    ) -> None:
        """Raise an escalation; prints it as JSON (category/severity inferred when not given)."""
        if category is not None and category not in CATEGORIES:
            fail(f"--category: {category!r} is not one of {', '.join(CATEGORIES)}", code=2)
        if severity is not None and severity not in SEVERITIES:
            fail(f"--severity: {severity!r} is not one of {', '.join(SEVERITIES)}", code=2)
        c = container()
        now = c.clock.now()
        try:
            with transaction(c.factory) as session:
                esc = service.raise_escalation(
                    session,
                    site=site,
                    study=study,
                    raised_by=by,
                    summary=phi.redact(summary).text.strip(),
                    category=category,
                    severity=severity,
                    now=now,
                    source="cli",
                    escalation_id=escalation_id,
                    settings=c.settings,
                )
                view = service.to_view(esc, now)
        except service.EscalationError as exc:
            _refuse(exc)
        print_json(view)

    def _respond(action: Any, escalation_id: str, by: str) -> None:
        c = container()
        now = c.clock.now()
        try:
            with transaction(c.factory) as session:
                view = service.to_view(action(session, escalation_id=escalation_id, by=by, now=now), now)
        except service.EscalationError as exc:
            _refuse(exc)
        typer.echo(_line(view))

    @group.command("ack")
    def ack(escalation_id: str = typer.Argument(...), by: str = typer.Option(..., "--by")) -> None:
        """Acknowledge: stops the hand-on and tells the site who has it."""
        _respond(service.ack, escalation_id, by)

    @group.command("resolve")
    def resolve(escalation_id: str = typer.Argument(...), by: str = typer.Option(..., "--by")) -> None:
        """Resolve: closes it and tells the site and everyone already notified."""
        _respond(service.resolve, escalation_id, by)

    @group.command("path")
    def path(
        site: str = typer.Option(..., "--site"),
        study: str = typer.Option(..., "--study"),
        category: str | None = typer.Option(None, "--category"),
        severity: str | None = typer.Option(None, "--severity"),
        summary: str | None = typer.Option(None, "--summary", help="infer category/severity from this text"),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Who would see an issue raised now, when, and how long each level has."""
        c = container()
        try:
            with transaction(c.factory) as session:
                out = service.describe_path(
                    session,
                    site=site,
                    study=study,
                    category=category,
                    severity=severity,
                    summary=phi.redact(summary).text if summary else None,
                    now=c.clock.now(),
                    settings=c.settings,
                )
        except service.EscalationError as exc:
            _refuse(exc)
        if as_json:
            print_json(out)
        else:
            typer.echo(out["text"])

    @group.command("policy")
    def policy(
        file: Path | None = typer.Argument(None, help="YAML/JSON routing policy to store as the new version"),
    ) -> None:
        """Show the policy in force, or store FILE as a new version (new escalations only)."""
        c = container()
        with transaction(c.factory) as session:
            if file is None:
                version, current = service.current_policy(session, c.settings)
                print_json({"version": version, "routing": current.as_json()})
                return
            try:
                parsed = load_policy_file(file)
            except PolicyError as exc:
                fail(str(exc), code=2)
            version, _ = service.store_policy(
                session, routing=parsed.as_json(), source="cli", by="cli", now=c.clock.now()
            )
        typer.echo(f"stored routing policy v{version} from {file}; it applies to escalations raised from now on")

    app.add_typer(group, name="escalations")
