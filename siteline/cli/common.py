"""Small shared pieces of the CLI: building the container and failing with a clear message."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from pydantic import ValidationError

from core.settings import Settings
from siteline.container import Container, build
from siteline.database import SchemaNotCurrent


def settings() -> Settings:
    """The settings, or a clear exit naming each bad variable (never a traceback)."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        fail(f"bad setting: {problems}", code=2)


def container() -> Container:
    """The wired process, or a clear exit when the schema is not at head and may not be migrated here."""
    try:
        return build(settings())
    except SchemaNotCurrent as exc:
        fail(str(exc))


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
