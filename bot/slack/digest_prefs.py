"""When a site hears from Siteline: `/siteline digest` shows and sets a site's digest times and
quiet hours; the App Home's *Edit digest preferences* button opens the same settings as a form.

Who may, and what is valid, are the assistant's and triage's (`assistant/digests.py`); this
renders the settings and the form, and names the form field an error belongs to.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from assistant.digests import NOT_YOURS, DigestOutcome, SiteDigest
from assistant.scope import UNKNOWN_USER
from assistant.types import ChatUser
from bot.slack.blocks import Block, any_of, apology, context, escape, say, section
from bot.slack.failures import guarded
from bot.slack.home import EDIT_DIGEST, home_view
from bot.slack.runtime import SlackRuntime
from core.domain import Site
from triage.service import Preferences

if TYPE_CHECKING:
    from bot.slack.commands import Invocation

SAVE = "digest_prefs"
TIMES, QUIET_FROM, QUIET_TO = "d_times", "d_quiet_from", "d_quiet_to"
USAGE = "Change them with `/siteline digest 08:30,16:00 quiet 19:00-07:00` (or `quiet off`)."


def describe(shown: SiteDigest) -> str:
    return f"*{escape(shown.name)}* {escape(shown.detail)}"


def render(outcome: DigestOutcome) -> str:
    lines = [describe(s) for s in outcome.shown]
    if outcome.saved:
        return f":white_check_mark: Saved. {lines[0]}"
    if not outcome.ok:
        text = say(outcome.message)
        text = f":no_entry: {text}" if outcome.message.startswith("Not saved") else text
        return f"{text}\n{USAGE}" if outcome.show_usage else text
    return "\n".join([*lines, USAGE])


def command(inv: Invocation) -> None:
    inv.ack()

    def reply(text: str) -> None:
        inv.respond(text=text, response_type="ephemeral")

    with guarded("slash digest", inv.ref, lambda: reply(apology(inv.ref))):
        outcome = inv.rt.assistant.digests.command(
            inv.user, inv.args.split(), conversation_id=str(inv.command.get("channel_id") or "")
        )
        reply(render(outcome))


def prefs_modal(prefs: Preferences, site: Site) -> dict[str, Any]:
    def timepicker(block_id: str, label: str, initial: str | None) -> Block:
        element: dict[str, Any] = {"type": "timepicker", "action_id": block_id}
        if initial:
            element["initial_time"] = initial
        return {"type": "input", "block_id": block_id, "optional": True, "element": element,
                "label": {"type": "plain_text", "text": label}}  # fmt: skip

    quiet = prefs.quiet_hours or [None, None]
    times_el = {"type": "plain_text_input", "action_id": TIMES, "initial_value": ", ".join(prefs.digest_times)}
    return {
        "type": "modal",
        "callback_id": SAVE,
        "private_metadata": site.site_id,
        "title": {"type": "plain_text", "text": "Digest preferences"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"*{escape(site.name or site.site_id)}* · times are in {escape(site.tz)}"),
            {
                "type": "input",
                "block_id": TIMES,
                "element": times_el,
                "label": {"type": "plain_text", "text": "Digest times"},
                "hint": {"type": "plain_text", "text": "HH:MM, separated by commas, e.g. 08:30, 16:00"},
            },
            timepicker(QUIET_FROM, "Quiet hours from", quiet[0]),
            timepicker(QUIET_TO, "Quiet hours until", quiet[1]),
            context("Urgent updates still reach you at once; everything else waits for a digest outside quiet hours."),
        ],
    }


def _notice(title: str, text: str) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title},
            "close": {"type": "plain_text", "text": "Close"}, "blocks": [section(escape(text))]}  # fmt: skip


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(any_of(EDIT_DIGEST))
    def on_edit(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        user, site_id = ChatUser("slack", str(body["user"]["id"])), str(action["value"])
        with guarded("digest preferences form", body.get("trigger_id"), lambda: None):
            person, sites = rt.assistant.digests.sites(user)
            site = next((s for s in sites if s.site_id == site_id), None)
            if site is None:
                refusal = NOT_YOURS if person else UNKNOWN_USER
                client.views_open(trigger_id=body["trigger_id"], view=_notice("Digest preferences", refusal))
                return
            shown = rt.assistant.digests.view(site)
            client.views_open(trigger_id=body["trigger_id"], view=prefs_modal(shown.prefs, site))

    @app.view(SAVE)
    def on_save(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user, site_id = str(body["user"]["id"]), str(view.get("private_metadata") or "")
        values = view["state"]["values"]
        times = [t for t in re.split(r"[,\s]+", values[TIMES][TIMES].get("value") or "") if t]
        start = (values.get(QUIET_FROM) or {}).get(QUIET_FROM, {}).get("selected_time")
        end = (values.get(QUIET_TO) or {}).get(QUIET_TO, {}).get("selected_time")
        if bool(start) != bool(end):
            ack(response_action="errors", errors={QUIET_TO if start else QUIET_FROM: "Give both ends, or neither."})
            return
        saved = rt.assistant.digests.save(
            ChatUser("slack", user), site_id, digest_times=times, quiet_hours=[start, end] if start else None
        )
        if not saved.ok:
            block = QUIET_FROM if saved.message.startswith("quiet_hours") else TIMES
            ack(response_action="errors", errors={block: saved.message})
            return
        ack()
        with guarded("app home refresh", user, lambda: None):
            client.views_publish(user_id=user, view=home_view(rt.assistant.profile(ChatUser("slack", user))))
