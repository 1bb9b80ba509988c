"""`/siteline <subcommand>`: ask, help, questions, notify, digest, escalate, escalation-path.

Subcommands are a table, not an if/elif chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from assistant.scope import UNKNOWN_USER
from assistant.service import ChatUser
from bot.slack import digest_prefs, escalate, notify, path
from bot.slack.answering import answer_privately
from bot.slack.blocks import apology, questions_blocks
from bot.slack.failures import guarded
from bot.slack.home import HELP
from bot.slack.runtime import SlackRuntime
from bot.slack.translate import from_command


@dataclass(frozen=True)
class Invocation:
    rt: SlackRuntime
    command: dict[str, Any]
    args: str
    ack: Ack
    respond: Respond
    client: WebClient

    @property
    def user(self) -> ChatUser:
        return ChatUser("slack", str(self.command["user_id"]))

    @property
    def ref(self) -> str | None:
        return self.command.get("trigger_id")


Subcommand = Callable[[Invocation], None]


def ask(inv: Invocation) -> None:
    if not inv.args:
        inv.ack(text="Usage: `/siteline ask <your question>`")
        return
    inv.ack(text=":mag: Looking that up in your study documents…")
    answer_privately(inv.rt, inv.respond, from_command(inv.command, inv.args))


def help_(inv: Invocation) -> None:
    inv.ack(text=HELP)


def questions(inv: Invocation) -> None:
    inv.ack()

    def apologize() -> None:
        inv.respond(text=apology(inv.ref), response_type="ephemeral")

    with guarded("slash questions", inv.ref, apologize):
        profile = inv.rt.assistant.profile(inv.user)
        if profile is None:
            inv.respond(text=UNKNOWN_USER, response_type="ephemeral")
            return
        listed = list(profile.open_questions)
        blocks = questions_blocks(listed, viewer=profile.person.person_id)
        inv.respond(text=f"Open questions: {len(listed)}", blocks=blocks, response_type="ephemeral")


def dashboard(inv: Invocation) -> None:
    """A one-time sign-in link, in the command's reply (shown only to the person who asked)."""
    inv.ack(text=inv.rt.assistant.dashboard_link(inv.user, inv.rt.now()))


SUBCOMMANDS: dict[str, Subcommand] = {
    "ask": ask,
    "help": help_,
    "questions": questions,
    "notify": notify.command,
    "digest": digest_prefs.command,
    "escalate": escalate.command,
    "escalation-path": path.command,
    "dashboard": dashboard,
}


def register(app: App, rt: SlackRuntime) -> None:
    @app.command("/siteline")
    def on_command(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        name, _, args = str(command.get("text") or "").strip().partition(" ")
        name = name.lower()
        inv = Invocation(rt, command, args.strip(), ack, respond, client)
        if name in SUBCOMMANDS:
            SUBCOMMANDS[name](inv)
        elif not name:
            help_(inv)
        elif str(command.get("text", "")).strip().endswith("?"):
            ask(Invocation(rt, command, str(command["text"]).strip(), ack, respond, client))
        else:
            ack(text=f"I don't know `/siteline {name}`.\n\n{HELP}")
