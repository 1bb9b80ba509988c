"""Which typed words are commands in Teams (besides `help` and `questions`, answered in answering.py).

Slack's `/siteline` has the same subcommands; the names match so people can switch between the two.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.teams.commands import Invocation, Outcome, digest, escalate, escalation_path
from bot.teams.runtime import TeamsRuntime

Command = Callable[[TeamsRuntime, Invocation], Outcome]

COMMANDS: dict[str, Command] = {
    "escalation-path": escalation_path,
    "digest": digest,
    "escalate": escalate,
}


def find(text: str) -> tuple[Command, str] | None:
    """(command, its arguments) when `text` starts with a command name (with or without a slash)."""
    name, _, args = text.strip().partition(" ")
    command = COMMANDS.get(name.lower().lstrip("/"))
    return (command, args.strip()) if command else None
