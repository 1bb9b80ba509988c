"""`siteline replay SCENARIO.jsonl [--out FILE]`: the engines under a virtual clock."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

import typer

from core.notify import NotifierStopped
from scheduler.plugins import PluginError
from siteline.cli.common import fail
from siteline.replay import ScenarioError, replay


def _replay_to_file(scenario: Path, out: Path) -> None:
    """Deliveries go to a temporary file beside `out`, renamed over it only when the whole replay succeeded:
    a line rejected halfway leaves no partial output (and an earlier `out` untouched)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}", code=1)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            replay(scenario, fh)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file would be (mkstemp makes it private)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
                _replay_to_file(scenario, out)
        except ScenarioError as exc:
            fail(str(exc), code=2)
        except PluginError as exc:
            fail(f"cannot start the engines: {exc}", code=1)
        except NotifierStopped as exc:
            if isinstance(exc.__cause__, BrokenPipeError):  # `siteline replay x | head`: the reader has enough
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
                raise typer.Exit(0) from None
            fail(str(exc), code=1)
