"""`siteline ingest | ask | eval | demo` (owned by the knowledge work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Not built yet."""
