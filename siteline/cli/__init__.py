"""The `siteline` command. Each command group lives in its own module and registers itself."""

from __future__ import annotations

import logging

import typer

from siteline.cli import audit, dashboard, db, demo, directory, escalations, knowledge, replay, serve, triage

app = typer.Typer(
    name="siteline",
    help="Siteline: cited answers from study documents, triaged sponsor updates, escalation routing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (knowledge, demo, directory, serve, replay, triage, escalations, audit, db, dashboard):
    module.register(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # bm25s sets its logger to DEBUG when imported; unpropagated, only its warnings reach stderr (lastResort)
    logging.getLogger("bm25s").propagate = False
    app()
