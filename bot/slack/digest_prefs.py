"""When a site hears from Siteline: `/siteline digest` shows and sets a site's digest times and
quiet hours; the App Home's *Edit digest preferences* button opens the same settings as a form.

Both go through TriageService.set_preferences, which validates (a digest time must fall outside
quiet hours), moves a digest already waiting to the new schedule, and audits the change as the
person who made it. Site staff and the CRAs of a site may change it; the error names the field.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from assistant.scope import UNKNOWN_USER
from assistant.service import ChatUser
from bot.command_args import KEEP, ParseError, may_set_digest, own_sites, parse_setting
from bot.slack.blocks import Block, any_of, apology, context, escape, section
from bot.slack.failures import guarded
from bot.slack.home import EDIT_DIGEST, home_view
from bot.slack.people import person_of, triage_of
from bot.slack.runtime import SlackRuntime
from core.db import transaction
from core.directory import Directory
from core.domain import Person, Site
from escalation.messages import local
from triage.service import Preferences, PreferencesError

if TYPE_CHECKING:
    from bot.slack.commands import Invocation

SAVE = "digest_prefs"
TIMES, QUIET_FROM, QUIET_TO = "d_times", "d_quiet_from", "d_quiet_to"
USAGE = "Change them with `/siteline digest 08:30,16:00 quiet 19:00-07:00` (or `quiet off`)."
NOT_YOURS = (
    "Digest times belong to a site: its staff and CRAs can change them. You're not listed on a site, "
    "so there is nothing to show here."
)


def describe(prefs: Preferences, site: Site | None) -> str:
    name = escape(site.name or site.site_id) if site else escape(prefs.site_id)
    quiet = f"quiet hours {prefs.quiet_hours[0]}–{prefs.quiet_hours[1]}" if prefs.quiet_hours else "no quiet hours"
    waiting = (
        f"a digest is waiting for {local(prefs.next_digest_at, prefs.tz)}"
        if prefs.next_digest_at
        else "nothing is waiting for a digest"
    )
    times = ", ".join(prefs.digest_times) or "none"
    return f"*{name}* ({escape(prefs.site_id)}, {escape(prefs.tz)}): digests at {times}; {quiet}; {waiting}."


def _sites(rt: SlackRuntime, person: Person) -> list[Site]:
    with transaction(rt.container.factory) as session:
        return [s for s in own_sites(session, person) if may_set_digest(person, s.site_id)]


def command(inv: Invocation) -> None:
    inv.ack()

    def reply(text: str) -> None:
        inv.respond(text=text, response_type="ephemeral")

    with guarded("slash digest", inv.ref, lambda: reply(apology(inv.ref))):
        person = person_of(inv.rt, inv.user.user_id)
        if person is None:
            reply(UNKNOWN_USER)
            return
        sites = _sites(inv.rt, person)
        if not sites:
            reply(NOT_YOURS)
            return
        args = inv.args.split()
        by_id = {s.site_id.lower(): s for s in sites}
        target = by_id.pop(args[0].lower(), None) if args else None
        rest = " ".join(args[1:] if target else args)
        with transaction(inv.rt.container.factory) as session:
            directory = Directory(session)
            other = directory.site(args[0]) if args and target is None else None
            here = directory.site_by_slack_channel(str(inv.command.get("channel_id")))
        if other is not None:
            reply(f"You can't change the digest of {other.site_id}: only its staff and CRAs can.")
            return
        if target is None:
            target = next(
                (s for s in sites if here and s.site_id == here.site_id), sites[0] if len(sites) == 1 else None
            )
        service = triage_of(inv.rt)
        if not rest:
            shown = [target] if target else sites
            reply("\n".join(describe(service.preferences(s.site_id), s) for s in shown) + "\n" + USAGE)
            return
        if target is None:
            ids = ", ".join(s.site_id for s in sites)
            reply(f"Which site? Start with its id ({ids}), e.g. `/siteline digest {sites[0].site_id} {rest}`.")
            return
        try:
            prefs = save(inv.rt, person, target.site_id, rest)
        except (ParseError, PreferencesError) as exc:
            reply(f":no_entry: Not saved. {exc}.\n{USAGE}")
            return
        reply(f":white_check_mark: Saved. {describe(prefs, target)}")


def save(rt: SlackRuntime, person: Person, site_id: str, text: str) -> Preferences:
    service = triage_of(rt)
    current = service.preferences(site_id)
    times, quiet = parse_setting(text)
    return service.set_preferences(
        site_id,
        digest_times=times or current.digest_times,
        quiet_hours=current.quiet_hours if quiet == KEEP else quiet,  # type: ignore[arg-type]
        actor=person.person_id,
    )


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
        user, site_id = str(body["user"]["id"]), str(action["value"])
        with guarded("digest preferences form", body.get("trigger_id"), lambda: None):
            person = person_of(rt, user)
            site = next((s for s in _sites(rt, person) if s.site_id == site_id), None) if person else None
            if site is None:
                refusal = NOT_YOURS if person else UNKNOWN_USER
                client.views_open(trigger_id=body["trigger_id"], view=_notice("Digest preferences", refusal))
                return
            client.views_open(trigger_id=body["trigger_id"], view=prefs_modal(triage_of(rt).preferences(site_id), site))

    @app.view(SAVE)
    def on_save(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user, site_id = str(body["user"]["id"]), str(view.get("private_metadata") or "")
        values = view["state"]["values"]
        person = person_of(rt, user)
        if person is None or not may_set_digest(person, site_id):
            ack(response_action="errors", errors={TIMES: NOT_YOURS if person else UNKNOWN_USER})
            return
        times = [t for t in re.split(r"[,\s]+", values[TIMES][TIMES].get("value") or "") if t]
        start = (values.get(QUIET_FROM) or {}).get(QUIET_FROM, {}).get("selected_time")
        end = (values.get(QUIET_TO) or {}).get(QUIET_TO, {}).get("selected_time")
        if bool(start) != bool(end):
            ack(response_action="errors", errors={QUIET_TO if start else QUIET_FROM: "Give both ends, or neither."})
            return
        try:
            triage_of(rt).set_preferences(
                site_id, digest_times=times, quiet_hours=[start, end] if start else None, actor=person.person_id
            )
        except PreferencesError as exc:
            block = QUIET_FROM if str(exc).startswith("quiet_hours") else TIMES
            ack(response_action="errors", errors={block: str(exc)})
            return
        ack()
        with guarded("app home refresh", user, lambda: None):
            client.views_publish(user_id=user, view=home_view(rt.assistant.profile(ChatUser("slack", user))))
