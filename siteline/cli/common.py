"""Small shared pieces of the CLI: building the container and failing with a clear message."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer

from core.settings import Settings
from siteline.container import Container, build


def container() -> Container:
    return build(Settings())


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
