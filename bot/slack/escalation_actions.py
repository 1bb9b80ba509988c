"""*Acknowledge* and *Resolve* on an escalation DM, through the escalation engine's ack / resolve.

Only the people the escalation was sent to (its ladder so far) and the sponsor team of that site
and study may press them; anyone else gets a private refusal and nothing changes. After a click
the updates the engine queued (the site's thread, colleagues already told) are sent at once, and
the DM is rewritten to say who did what and when, so nobody presses a stale button.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from assistant.scope import UNKNOWN_USER
from bot.command_args import SPONSOR_ROLES
from bot.slack.blocks import apology
from bot.slack.escalation_blocks import ACK, RESOLVE, acted_blocks
from bot.slack.failures import guarded, quietly
from bot.slack.runtime import SlackRuntime
from core.db import transaction
from core.directory import Directory
from core.domain import Person
from escalation import service
from escalation.deliveries import due_now
from escalation.messages import local


@dataclass(frozen=True)
class Click:
    ok: bool
    message: str
    still_open: bool = False  # acknowledged, not resolved: Resolve stays on the DM


def queued_now(rt: SlackRuntime, esc_id: str) -> tuple[str, ...]:
    with transaction(rt.container.factory) as session:
        return due_now(session, esc_id, rt.now())


def on_ladder(session: Session, esc_id: str, person_id: str) -> bool:
    """Whether the engine has told (or is about to tell) this person about the escalation."""
    for event in service.history(session, escalation_id=esc_id):
        if event["kind"] == "notify" and person_id in ((event.get("detail") or {}).get("recipients") or {}):
            return True
    return False


def _when(person: Person, now: datetime) -> str:
    return f"{local(now, person.tz)} ({person.tz})"


def act(rt: SlackRuntime, slack_user: str, esc_id: str, *, resolve: bool) -> Click:
    verb = "resolve" if resolve else "acknowledge"
    now = rt.now()
    try:
        with transaction(rt.container.factory) as session:
            directory = Directory(session)
            person = directory.person_by_slack(slack_user)
            if person is None:
                return Click(False, UNKNOWN_USER)
            esc = service.get(session, esc_id)
            sponsor = person.role in SPONSOR_ROLES and person.covers(site=esc.site, study=esc.study)
            if not (sponsor or on_ladder(session, esc_id, person.person_id)):
                return Click(
                    False,
                    f"You can't {verb} escalation {esc_id}: only the people it was sent to and the sponsor team of "
                    f"site {esc.site} / {esc.study} can.",
                )
            name = person.name or person.person_id
            if resolve:
                esc = service.resolve(session, escalation_id=esc_id, by=person.person_id, now=now)
                if esc.resolved_by != person.person_id:
                    return Click(True, f":checkered_flag: Already resolved by {_name(directory, esc.resolved_by)}.")
                return Click(True, f":checkered_flag: Resolved by {name} at {_when(person, now)}. The site was told.")
            esc = service.ack(session, escalation_id=esc_id, by=person.person_id, now=now)
            if esc.acked_by != person.person_id:
                return Click(
                    True, f":white_check_mark: Already acknowledged by {_name(directory, esc.acked_by)}.", True
                )
            return Click(
                True,
                f":white_check_mark: Acknowledged by {name} at {_when(person, now)}. It won't go further up; "
                "the site was told.",
                True,
            )
    except service.Forbidden:
        return Click(False, f"You can't {verb} escalation {esc_id}: it belongs to a site or study you don't cover.")
    except service.NotFound:
        return Click(False, f"I can't find escalation {esc_id} any more.")
    except service.Conflict:
        return Click(False, f"Escalation {esc_id} is already resolved: nothing left to {verb}.")


def _name(directory: Directory, person_id: str | None) -> str:
    person = directory.person(person_id or "")
    return (person.name or person.person_id) if person else (person_id or "someone else")


def register(app: App, rt: SlackRuntime) -> None:
    def handler(resolve: bool) -> Any:
        def on_click(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
        ) -> None:
            ack()
            ref = body.get("trigger_id")

            def tell(text: str) -> None:
                respond(text=text, response_type="ephemeral", replace_original=False)

            with guarded("escalation resolve" if resolve else "escalation ack", ref, lambda: tell(apology(ref))):
                esc_id = str(action["value"])
                click = act(rt, str(body["user"]["id"]), esc_id, resolve=resolve)
                if not click.ok:
                    tell(click.message)
                    return
                rt.deliver(queued_now(rt, esc_id))
                container, message = body.get("container") or {}, body.get("message") or {}
                if container.get("channel_id") and container.get("message_ts") and message.get("blocks"):
                    blocks = acted_blocks(message["blocks"], click.message, esc_id=esc_id, still_open=click.still_open)
                    quietly(
                        "chat.update (escalation DM)",
                        lambda: client.chat_update(
                            channel=container["channel_id"],
                            ts=container["message_ts"],
                            text=click.message,
                            blocks=blocks,
                        ),
                    )
                else:
                    tell(click.message)

        return on_click

    app.action(ACK)(handler(resolve=False))
    app.action(RESOLVE)(handler(resolve=True))
