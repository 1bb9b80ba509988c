"""`/siteline escalate [summary]`: site staff raise an issue from a form that shows who will see it and when.

The assistant decides who may raise where, removes PHI, files the issue and says what it queued;
this module draws the form, redraws it when a choice changes, and shows the result. The form is
answered within Slack's 3 seconds with a "working" view, then replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from assistant.scope import Where
from assistant.types import ChatUser
from assistant.words import SUMMARY_MIN
from bot.slack import escalate_views as v
from bot.slack.blocks import apology, say
from bot.slack.escalation_blocks import ladder_blocks
from bot.slack.failures import guarded
from bot.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from bot.slack.commands import Invocation


def _chosen(value: str) -> str | None:
    return None if value == v.AUTO else value


def _form(
    rt: SlackRuntime, places: Sequence[Where], chosen: Where, category: str, severity: str, summary: str = ""
) -> dict[str, Any]:
    ladder = rt.assistant.escalations.ladder(chosen, _chosen(category), _chosen(severity), rt.now())
    return v.raise_view(
        places, chosen, category, severity, ladder.path, ladder.critical, now=ladder.now, summary=summary
    )


def command(inv: Invocation) -> None:
    offered = inv.rt.assistant.escalations.places(inv.user, conversation_id=str(inv.command.get("channel_id") or ""))
    if not offered.ok or offered.chosen is None:
        inv.ack(text=say(offered.message))
        return
    inv.ack()
    with guarded("escalate form", inv.ref, lambda: inv.respond(text=apology(inv.ref), response_type="ephemeral")):
        view = _form(inv.rt, offered.places, offered.chosen, v.AUTO, v.AUTO, inv.args)
        inv.client.views_open(trigger_id=inv.command["trigger_id"], view=view)


def read_form(values: Mapping[str, Any]) -> dict[str, str]:
    def picked(block: str) -> str:
        return str(((values.get(block) or {}).get(block) or {}).get("selected_option", {}).get("value") or "")

    summary = ((values.get(v.SUMMARY) or {}).get(v.SUMMARY) or {}).get("value") or ""
    return {
        "where": picked(v.WHERE),
        "category": picked(v.CATEGORY) or v.AUTO,
        "severity": picked(v.SEVERITY) or v.AUTO,
        "summary": summary.strip(),
    }


def register(app: App, rt: SlackRuntime) -> None:
    def on_change(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """A new site/study, category or severity: redraw who will see it and when."""
        ack()
        view = body["view"]
        with guarded("escalate form update", view.get("id"), lambda: None):
            offered = rt.assistant.escalations.places(ChatUser("slack", str(body["user"]["id"])))
            form = read_form(view["state"]["values"])
            changed = {v.WHERE: "where", v.CATEGORY: "category", v.SEVERITY: "severity"}.get(
                action.get("action_id", "")
            )
            if changed and (action.get("selected_option") or {}).get("value"):
                form[changed] = action["selected_option"]["value"]
            chosen = next((p for p in offered.places if p.value == form["where"]), None)
            if chosen is None:
                return
            new = _form(rt, offered.places, chosen, form["category"], form["severity"], form["summary"])
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)

    for action_id in (v.WHERE, v.CATEGORY, v.SEVERITY):
        app.action(action_id)(on_change)

    @app.view(v.RAISE)
    def on_raise(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ref = view.get("id")
        user = ChatUser("slack", str(body["user"]["id"]))
        form = read_form(view["state"]["values"])
        offered = rt.assistant.escalations.places(user)
        if not offered.ok:
            ack(response_action="errors", errors={v.SUMMARY: offered.message})
            return
        if not any(p.value == form["where"] for p in offered.places):
            ack(response_action="errors", errors={v.WHERE: "Choose one of your sites and studies."})
            return
        if len(form["summary"]) < SUMMARY_MIN:
            ack(response_action="errors", errors={v.SUMMARY: "Say in a sentence what happened and what you need."})
            return
        ack(response_action="update", view=v.message_view("Raise an issue", ":hourglass_flowing_sand: Raising it…"))
        sorry = v.message_view("Sorry", apology(ref) + " Your issue was not raised.")
        with guarded("escalate raise", ref, lambda: client.views_update(view_id=view["id"], view=sorry)):
            raised = rt.assistant.escalations.raise_issue(
                user,
                form["where"],
                form["summary"],
                category=_chosen(form["category"]),
                severity=_chosen(form["severity"]),
                source="slack",
                now=rt.now(),
            )
            if not raised.ok or raised.escalation is None or raised.ladder is None:
                failed = v.message_view("Not raised", f":no_entry: {say(raised.message)}")
                client.views_update(view_id=view["id"], view=failed)
                return
            rt.deliver(raised.deliveries)
            blocks = ladder_blocks(raised.ladder, with_critical=False)[1:]
            site = raised.ladder.where.site
            done = v.raised_view(raised.escalation, site.chat.get("slack"), raised.notice, blocks)
            client.views_update(view_id=view["id"], view=done)
