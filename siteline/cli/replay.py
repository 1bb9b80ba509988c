"""`siteline replay SCENARIO.jsonl [--out FILE]`: the engines under a virtual clock."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from core.notify import NotifierStopped
from scheduler.plugins import PluginError
from siteline.cli.common import fail
from siteline.replay import ScenarioError, replay


def register(app: typer.Typer) -> None:
    @app.command("replay")
    def replay_cmd(
        scenario: Path = typer.Argument(..., help="scenario JSONL (see the replay contract)"),
        out: Path | None = typer.Option(None, "--out", help="write deliveries here instead of stdout"),
    ) -> None:
        """Replay a scenario deterministically and print one JSON line per delivery."""
        try:
            if out is None:
                replay(scenario, sys.stdout)
            else:
                with out.open("w", encoding="utf-8") as fh:
                    replay(scenario, fh)
        except ScenarioError as exc:
            fail(str(exc), code=2)
        except PluginError as exc:
            fail(f"cannot start the engines: {exc}", code=1)
        except NotifierStopped as exc:
            if isinstance(exc.__cause__, BrokenPipeError):  # `siteline replay x | head`: the reader has enough
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
                raise typer.Exit(0) from None
            fail(str(exc), code=1)
