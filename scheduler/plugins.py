"""How an engine plugs into the live service and the replay alike.

An engine (triage, escalation) offers handlers for the input lines it owns (the replay
contract's `type`s; the HTTP API calls the same handlers) and for the timer kinds it
schedules. `serve` and `siteline replay` load the same plugins: only the clock and the
Notifier differ.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from core.settings import Settings
from scheduler.timers import TimerHandler

LineHandler = Callable[[Session, dict[str, Any], datetime], None]


class LineRejected(ValueError):
    """Raised by a line handler for data it refuses (e.g. an update to an unknown site): the replay
    reports it as a bad line, with its number, and the handler's transaction stores nothing."""


class PluginError(RuntimeError):
    """An installed engine could not start (e.g. its policy file is invalid); names the engine."""


@dataclass
class EnginePlugin:
    name: str
    # type -> pydantic model validating that line (without `at`/`type`); errors name the field.
    line_models: dict[str, type[BaseModel]] = field(default_factory=dict)
    # type -> handler(session, validated line as dict, now); runs inside the caller's transaction.
    line_handlers: dict[str, LineHandler] = field(default_factory=dict)
    timer_handlers: dict[str, TimerHandler] = field(default_factory=dict)


PLUGIN_MODULES = ("triage.plugin", "escalation.plugin", "assistant.plugin")


def load_plugins(settings: Settings) -> list[EnginePlugin]:
    """Every engine's plugin: each module offers `plugin(settings) -> EnginePlugin`. Named, not imported,
    because the scheduler sits below the engines; a missing or broken one fails loudly."""
    plugins = []
    for name in PLUGIN_MODULES:
        module = importlib.import_module(name)
        try:
            plugins.append(module.plugin(settings))
        except ValueError as exc:  # a bad policy file or setting: say which engine, no traceback
            raise PluginError(f"{name}: {exc}") from exc
    return plugins


def timer_handlers(plugins: list[EnginePlugin]) -> dict[str, TimerHandler]:
    merged: dict[str, TimerHandler] = {}
    for p in plugins:
        merged.update(p.timer_handlers)
    return merged
