"""`siteline demo`: ingest the bundled sample study (first run only) and open a question console.

Interactive on a terminal; with stdin piped it reads one question (or `:command`) a line and
prints the answers, so the demo can be scripted and tested. `--json` prints `ask --json` objects.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from core.clock import iso, parse_instant
from core.settings import Settings
from knowledge.vector_index import VectorStoreUnavailable
from siteline import demo
from siteline.cli.common import fail, print_json
from siteline.cli.demo_view import (
    BANNER,
    HELP,
    answer_json,
    print_answer,
    print_deliveries,
    print_people,
    print_site_schedules,
    print_studies,
    who,
)
from siteline.container import Container, build
from siteline.database import SchemaNotCurrent

QUIT = {":quit", ":q", ":exit"}


class DemoConsole:
    """The demo's conversation state: the container, who is asking, and how to print."""

    def __init__(self, c: Container, session: demo.DemoSession, out: Console, as_json: bool) -> None:
        self.c = c
        self.session = session
        self.out = out
        self.as_json = as_json

    def handle(self, line: str) -> bool:
        """Run one input line; False when the user asked to quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if not line.startswith(":"):
            self.ask(line)
            return True
        name, _, arg = line.partition(" ")
        if name in QUIT:
            return False
        handler = COMMANDS.get(name)
        if handler is None:
            self.say(f"Unknown command {name}. Type :help for the list.", style="yellow")
        else:
            handler(self, arg.strip())
        return True

    def say(self, text: str, style: str = "") -> None:
        if self.as_json:
            print(text, file=sys.stderr)
        else:
            self.out.print(escape(text), style=style or None)

    def ask(self, question: str) -> None:
        try:
            asked = self.session.ask(question, now=self.c.clock.now())
        except demo.DemoError as exc:
            self.say(str(exc), style="red")
            return
        if self.as_json:
            notice = {"notice": asked.notice} if asked.notice else {}
            print_json({"question": asked.question, **notice, **answer_json(asked.answer)})
        else:
            print_answer(self.out, asked, self.session.person)


def _help(ui: DemoConsole, _arg: str) -> None:
    ui.out.print(HELP)


def _as(ui: DemoConsole, arg: str) -> None:
    if not arg:
        ui.say("Usage: :as <person_id>  (see :people)", style="yellow")
        return
    try:
        person = ui.session.switch(arg)
    except demo.DemoError as exc:
        ui.say(str(exc), style="red")
        return
    studies = ", ".join(ui.session.studies()) or "no study"
    ui.say(f"You are {who(person)}; answers come from {studies}.")


def _people(ui: DemoConsole, _arg: str) -> None:
    print_people(ui.out, ui.session.people(), current=ui.session.person.person_id)


def _study(ui: DemoConsole, _arg: str) -> None:
    print_studies(ui.out, ui.c, ui.session.studies())


def _updates(ui: DemoConsole, _arg: str) -> None:
    if "update" not in demo.engine_lines(ui.c):
        ui.say("Not available yet: the triage engine is not installed in this build.", style="yellow")
        return
    updates, deliveries = demo.simulate_updates(ui.c)
    if ui.as_json:
        print_json({"command": ":updates", "deliveries": [_delivery_json(d) for d in deliveries]})
        return
    people = {p.person_id: p for p in ui.session.people()}
    first, last = (parse_instant(updates[i]["at"]) for i in (0, -1))
    span = f"{first:%d %b} to {last:%d %b %Y}"
    ui.out.print(f"[bold]{len(updates)} sponsor and CRO updates[/] ({span}), triaged for these sites:")
    print_site_schedules(ui.out, ui.c)
    print_deliveries(ui.out, ui.c, deliveries, people=people, updates=updates, title="What each site received")


def _escalate(ui: DemoConsole, arg: str) -> None:
    if not arg:
        ui.say("Usage: :escalate <what the site needs help with>", style="yellow")
        return
    if "escalation" not in demo.engine_lines(ui.c):
        ui.say("Not available yet: the escalation engine is not installed in this build.", style="yellow")
        return
    person, site = ui.session.person, ui.session.site()
    studies = [s for s in ui.session.studies() if site is not None and s in site.studies]
    if person.role != "site_staff" or site is None or not studies:
        ui.say("Escalations are raised by site staff: switch first, for example :as p-bos-crc", style="yellow")
        return
    now = ui.c.clock.now()
    deliveries = demo.simulate_escalation(ui.c, person=person, site=site, study=studies[0], summary=arg, now=now)
    if ui.as_json:
        print_json({"command": ":escalate", "deliveries": [_delivery_json(d) for d in deliveries]})
        return
    people = {p.person_id: p for p in ui.session.people()}
    print_deliveries(
        ui.out,
        ui.c,
        deliveries,
        people=people,
        updates=[],
        title=f"Escalation from {site.name or site.site_id} on {studies[0]}, unacknowledged for 4 days",
    )


def _delivery_json(d: demo.Delivery) -> dict[str, Any]:
    data: dict[str, Any] = {"at": iso(d.at), "to": d.to, "channel": d.channel, "kind": d.kind, "items": d.items}
    if d.escalation is not None:
        data["escalation"] = d.escalation
    return data


COMMANDS: dict[str, Callable[[DemoConsole, str], None]] = {
    ":help": _help,
    ":as": _as,
    ":people": _people,
    ":study": _study,
    ":updates": _updates,
    ":escalate": _escalate,
}


def _open(home: Path | None) -> Container:
    settings = Settings(SITELINE_HOME=home) if home else Settings()
    try:
        c = build(settings)
    except SchemaNotCurrent as exc:
        fail(str(exc))
    try:
        c.knowledge  # noqa: B018 - opening it is the check
    except VectorStoreUnavailable as exc:
        fail(str(exc))
    except (ImportError, AttributeError) as exc:
        fail(f"the knowledge engine is not available in this build ({exc}); `siteline demo` needs it")
    return c


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_cmd(
        as_: str = typer.Option(demo.DEFAULT_PERSON, "--as", help="who you are: a person_id of the demo directory"),
        home: Path | None = typer.Option(None, "--home", help="data folder (default: $SITELINE_HOME or ./.siteline)"),
        as_json: bool = typer.Option(False, "--json", help="print one `ask --json` object per question"),
        reingest: bool = typer.Option(False, "--reingest", help="ingest the sample study again even if unchanged"),
    ) -> None:
        """A local demo over a bundled, fictional study: ask questions and see cited answers."""
        interactive = sys.stdin.isatty() and not as_json
        out = Console(highlight=False) if interactive else Console(highlight=False, width=110, force_terminal=False)
        err = Console(stderr=True, highlight=False)
        c = _open(home)
        if reingest or not demo.is_prepared(c):
            err.print("Preparing the sample study (first run only; about a minute)...")
        try:
            report = demo.prepare(c, now=c.clock.now(), progress=interactive, force=reingest)
        except demo.DemoError as exc:
            fail(str(exc))
        if report.ingested:
            err.print(f"Ingested {report.documents} documents; imported {report.sites} sites, {report.people} people.")
        if report.vectors_restored:
            err.print(f"Embedded {report.vectors_restored} stored chunks the search index lacked (a new model).")
        try:
            session = demo.DemoSession(c, as_)
        except demo.DemoError as exc:
            fail(str(exc), code=2)
        ui = DemoConsole(c, session, out, as_json)
        if not interactive:
            for line in sys.stdin:
                if not ui.handle(line):
                    break
            return
        out.print(BANNER.format(home=escape(str(c.settings.home.resolve()))))
        _as(ui, session.person.person_id)
        _loop(ui)


def _loop(ui: DemoConsole) -> None:
    with suppress(ImportError):
        import readline  # noqa: F401 - line editing and history for input()
    while True:
        who = ui.session.person.name or ui.session.person.person_id
        try:
            line = ui.out.input(f"\n[bold cyan]{escape(who)}[/] [dim]›[/] ")
        except (EOFError, KeyboardInterrupt):
            ui.out.print()
            break
        if not ui.handle(line):
            break
    ui.out.print("[dim]Bye. Run `siteline demo` again any time; the sample study stays ingested.[/]")
