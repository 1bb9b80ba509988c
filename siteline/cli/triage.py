"""siteline notify / stats (owned by the triage work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Not built yet."""
