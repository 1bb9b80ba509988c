"""`/siteline notify`: a sponsor-side person sends an update to sites, after seeing how Siteline
will treat it.

Form → preview (triage's judged priority and reason, merges, when each site gets it) → *Send*
(submitted as that person, source "slack"), through the assistant (`assistant/updates.py`), which
decides who may address which studies and sites. Slack wants an answer to a form within 3 seconds
and the judgment may ask an LLM, so the form is answered at once with a "working" view that is then
replaced. Mistakes are shown on their field.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from assistant.types import ChatUser
from assistant.updates import Draft, Judged
from bot.slack import notify_views as v
from bot.slack.blocks import apology, context, escape, say, section
from bot.slack.failures import guarded
from bot.slack.runtime import SlackRuntime

if TYPE_CHECKING:
    from bot.slack.commands import Invocation

METADATA_MAX = 3000
LOST = "This form lost its contents (Slack did not send them back). Nothing was sent: please start again."
FIELD_BLOCKS = {"study": v.STUDY, "subject": v.SUBJECT, "body": v.BODY, "declared_priority": v.PRIORITY, "due": v.DUE}


def command(inv: Invocation) -> None:
    composer = inv.rt.assistant.updates.composer(inv.user)
    if not composer.ok:
        inv.ack(text=say(composer.message))
        return
    draft = Draft(study=composer.studies[0], sites=[])
    view = v.compose_view(list(composer.studies), list(composer.sites), draft, whole_study=composer.whole_study)
    inv.ack()
    with guarded("notify form", inv.ref, lambda: inv.respond(text=apology(inv.ref), response_type="ephemeral")):
        inv.client.views_open(trigger_id=inv.command["trigger_id"], view=view)


def _compose(rt: SlackRuntime, user: ChatUser, draft: Draft) -> dict[str, Any] | None:
    composer = rt.assistant.updates.composer(user, draft.study)
    if not composer.ok:
        return None
    return v.compose_view(list(composer.studies), list(composer.sites), draft, whole_study=composer.whole_study)


def form_errors(judged: Judged, draft: Draft) -> dict[str, str]:
    """The assistant's errors by draft field, as errors by this form's block ids."""
    blocks = {**FIELD_BLOCKS, "sites": v.sites_block_id(draft.study), "": v.SUBJECT}
    return {blocks.get(name, v.SUBJECT): message for name, message in judged.errors.items()}


def read_form(values: dict[str, Any]) -> Draft:
    """The form's state as a draft (nothing validated yet)."""

    def el(block: str, action: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(action) or {}

    sites_block = next((b for b in values if b.startswith(v.SITES)), v.SITES)
    study = (el(v.STUDY, v.STUDY_CHANGED).get("selected_option") or {}).get("value") or ""
    return Draft(
        study=study,
        sites=[o["value"] for o in el(sites_block, v.SITES).get("selected_options") or []],
        subject=(el(v.SUBJECT, v.SUBJECT).get("value") or "").strip(),
        body=(el(v.BODY, v.BODY).get("value") or "").strip(),
        declared_priority=(el(v.PRIORITY, v.PRIORITY).get("selected_option") or {}).get("value"),
        due=el(v.DUE, v.DUE).get("selected_date"),
        org=(el(v.ORG, v.ORG).get("selected_option") or {}).get("value") or "sponsor",
    )


def _working(title: str, text: str) -> dict[str, Any]:
    return v.message_view(title, [section(f":hourglass_flowing_sand: {text}")])


def _sorry(ref: str | None) -> dict[str, Any]:
    return v.message_view("Sorry", [section(apology(ref)), context("Nothing was sent.")])


def register(app: App, rt: SlackRuntime) -> None:
    def user_of(body: dict[str, Any]) -> ChatUser:
        return ChatUser("slack", str(body["user"]["id"]))

    @app.action(v.STUDY_CHANGED)
    def on_study(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """Another study chosen: offer that study's sites."""
        ack()
        view = body["view"]
        with guarded("notify study change", view.get("id"), lambda: None):
            study = (action.get("selected_option") or {}).get("value")
            draft = read_form(view["state"]["values"])
            draft = Draft(**{**draft.to_json(), "study": study or draft.study, "sites": []})
            new = _compose(rt, user_of(body), draft)
            if new is not None:
                client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)

    @app.view(v.COMPOSE)
    def on_preview(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ref, user = view.get("id"), user_of(body)
        draft = read_form(view["state"]["values"])
        update_id = f"slack-{uuid.uuid4().hex[:12]}"
        checked = rt.assistant.updates.check(user, draft, update_id)
        if not checked.ok:
            ack(response_action="errors", errors=form_errors(checked, draft))
            return
        metadata = json.dumps({"id": update_id, "draft": draft.to_json()}, ensure_ascii=False)
        if len(metadata) > METADATA_MAX:
            over = len(metadata) - METADATA_MAX
            ack(response_action="errors", errors={v.BODY: f"Too long to preview here by {over} characters: shorten "
                "it, or send it with `siteline notify --body-file` or POST /api/updates."})  # fmt: skip
            return
        ack(response_action="update", view=_working("Update to sites", "Working out how Siteline will treat it…"))
        with guarded("notify preview", ref, lambda: client.views_update(view_id=view["id"], view=_sorry(ref))):
            judged = rt.assistant.updates.preview(user, draft, update_id)
            if not judged.ok:
                client.views_update(view_id=view["id"], view=_compose_with_error(rt, user, draft, judged.message))
                return
            client.views_update(view_id=view["id"], view=v.confirm_view(judged.decision, draft, judged.sites, metadata))

    @app.action(v.EDIT)
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body["view"]
        with guarded("notify edit", view.get("id"), lambda: None):
            draft = Draft(**json.loads(view.get("private_metadata") or "{}")["draft"])
            new = _compose(rt, user_of(body), draft)
            if new is not None:
                client.views_update(view_id=view["id"], hash=view.get("hash"), view=new)

    @app.view(v.CONFIRM)
    def on_send(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ref, user = view.get("id"), user_of(body)
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            draft, update_id = Draft(**meta["draft"]), str(meta["id"])
        except (ValueError, KeyError, TypeError):
            ack(response_action="update", view=v.message_view("Not sent", [section(":no_entry: " + LOST)]))
            return
        checked = rt.assistant.updates.check(user, draft, update_id)
        if not checked.ok:
            why = say(checked.message)
            ack(response_action="update", view=v.message_view("Not sent", [section(f":no_entry: {why}")]))
            return
        ack(response_action="update", view=_working("Update to sites", "Sending…"))
        with guarded("notify send", ref, lambda: client.views_update(view_id=view["id"], view=_sorry(ref))):
            judged = rt.assistant.updates.send(user, draft, update_id, source="slack")
            if not judged.ok:
                client.views_update(view_id=view["id"], view=_compose_with_error(rt, user, draft, judged.message))
                return
            client.views_update(view_id=view["id"], view=v.sent_view(judged.decision, draft, judged.sites))


def _compose_with_error(rt: SlackRuntime, user: ChatUser, draft: Draft, message: str) -> dict[str, Any]:
    """The form again, with what the triage engine refused on top (rare: the directory changed meanwhile)."""
    view = _compose(rt, user, draft) or v.message_view("Not sent", [])
    view["blocks"] = [section(f":no_entry: {escape(message)}")] + view["blocks"]
    return view
