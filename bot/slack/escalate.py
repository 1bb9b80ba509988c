"""`/siteline escalate [summary]`: site staff raise an issue from a form that shows who will see it and when.

On *Raise* the summary goes through the PHI guard first (nothing with identifiers is stored or
sent), then escalation.service.raise_escalation files it (category and severity inferred when
left to Siteline), and what the engine queued is sent at once: the root "Escalation raised: …"
in the site's channel with the path in its thread, and the level-1 DMs with Acknowledge and
Resolve. The form is answered within Slack's 3 seconds with a "working" view, then replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from assistant.scope import UNKNOWN_USER
from bot.command_args import SITE_ROLES, SUMMARY_MIN, Where, raise_places
from bot.slack import escalate_views as v
from bot.slack.blocks import apology, escape
from bot.slack.escalation_actions import queued_now
from bot.slack.escalation_blocks import path_blocks
from bot.slack.failures import guarded
from bot.slack.people import person_of
from bot.slack.runtime import SlackRuntime
from core.db import transaction
from core.directory import Directory
from core.domain import Person
from escalation import service

if TYPE_CHECKING:
    from bot.slack.commands import Invocation

NOT_SITE = (
    "`/siteline escalate` is how site staff raise an issue with the sponsor. As part of the sponsor team you'll "
    "get escalations by DM; `/siteline escalation-path` shows the ladder a site's issue climbs."
)
NO_PLACE = (
    "You're not listed on a site and study yet, so I can't raise an issue for you. Please ask your Siteline admin."
)


def _places(rt: SlackRuntime, person: Person) -> list[Where]:
    with transaction(rt.container.factory) as session:
        return raise_places(session, person)


def _paths(
    rt: SlackRuntime, where: Where, category: str, severity: str
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The path for the form (and the critical one, to say what *critical* changes)."""
    chosen = {
        "category": None if category == v.AUTO else category,
        "severity": None if severity == v.AUTO else severity,
    }
    with transaction(rt.container.factory) as session:
        args = {"site": where.site.site_id, "study": where.study, "now": rt.now(), "settings": rt.container.settings}
        path = service.describe_path(session, **args, **chosen)
        critical = None
        if path["severity"] != "critical":
            critical = service.describe_path(session, **args, category=chosen["category"], severity="critical")
    return path, critical


def _form(
    rt: SlackRuntime, places: list[Where], chosen: Where, category: str, severity: str, summary: str = ""
) -> dict[str, Any]:
    path, critical = _paths(rt, chosen, category, severity)
    return v.raise_view(places, chosen, category, severity, path, critical, now=rt.now(), summary=summary)


def command(inv: Invocation) -> None:
    person = person_of(inv.rt, inv.user.user_id)
    if person is None:
        inv.ack(text=UNKNOWN_USER)
        return
    if person.role not in SITE_ROLES:
        inv.ack(text=NOT_SITE)
        return
    places = _places(inv.rt, person)
    if not places:
        inv.ack(text=NO_PLACE)
        return
    with transaction(inv.rt.container.factory) as session:
        here = Directory(session).site_by_slack_channel(str(inv.command.get("channel_id")))
    chosen = next((p for p in places if here and p.site.site_id == here.site_id), places[0])
    inv.ack()
    with guarded("escalate form", inv.ref, lambda: inv.respond(text=apology(inv.ref), response_type="ephemeral")):
        inv.client.views_open(
            trigger_id=inv.command["trigger_id"], view=_form(inv.rt, places, chosen, v.AUTO, v.AUTO, inv.args)
        )


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
            person = person_of(rt, str(body["user"]["id"]))
            places = _places(rt, person) if person else []
            form = read_form(view["state"]["values"])
            changed = {v.WHERE: "where", v.CATEGORY: "category", v.SEVERITY: "severity"}.get(
                action.get("action_id", "")
            )
            if changed and (action.get("selected_option") or {}).get("value"):
                form[changed] = action["selected_option"]["value"]
            chosen = next((p for p in places if p.value == form["where"]), None)
            if chosen is None:
                return
            new = _form(rt, places, chosen, form["category"], form["severity"], form["summary"])
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)

    for action_id in (v.WHERE, v.CATEGORY, v.SEVERITY):
        app.action(action_id)(on_change)

    @app.view(v.RAISE)
    def on_raise(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ref = view.get("id")
        person = person_of(rt, str(body["user"]["id"]))
        if person is None or person.role not in SITE_ROLES:
            ack(response_action="errors", errors={v.SUMMARY: UNKNOWN_USER if person is None else NOT_SITE})
            return
        form = read_form(view["state"]["values"])
        chosen = next((p for p in _places(rt, person) if p.value == form["where"]), None)
        if chosen is None:
            ack(response_action="errors", errors={v.WHERE: "Choose one of your sites and studies."})
            return
        if len(form["summary"]) < SUMMARY_MIN:
            ack(response_action="errors", errors={v.SUMMARY: "Say in a sentence what happened and what you need."})
            return
        ack(response_action="update", view=v.message_view("Raise an issue", ":hourglass_flowing_sand: Raising it…"))
        sorry = v.message_view("Sorry", apology(ref) + " Your issue was not raised.")
        with guarded("escalate raise", ref, lambda: client.views_update(view_id=view["id"], view=sorry)):
            redaction = rt.assistant.guard.redact(form["summary"])
            now = rt.now()
            try:
                with transaction(rt.container.factory) as session:
                    esc = service.raise_escalation(
                        session,
                        site=chosen.site.site_id,
                        study=chosen.study,
                        raised_by=person.person_id,
                        summary=redaction.text.strip(),
                        category=None if form["category"] == v.AUTO else form["category"],
                        severity=None if form["severity"] == v.AUTO else form["severity"],
                        now=now,
                        source="slack",
                        settings=rt.container.settings,
                    )
                    shown = service.to_view(esc, now)
            except service.EscalationError as exc:
                client.views_update(
                    view_id=view["id"], view=v.message_view("Not raised", f":no_entry: {escape(str(exc))}")
                )
                return
            rt.deliver(queued_now(rt, shown["id"]))
            path, _ = _paths(rt, chosen, shown["category"], shown["severity"])
            site = chosen.site
            blocks = path_blocks(path, site_name=site.name or site.site_id, tz=site.tz, critical=None, now=now)
            notice = redaction.notice() if redaction.changed else None
            done = v.raised_view(shown, chosen.site.slack_channel_id, notice, blocks)
            client.views_update(view_id=view["id"], view=done)
