"""`/siteline notify`: a sponsor-side person sends an update to sites, after seeing how Siteline
will treat it.

Form → preview (TriageService.preview: judged priority and reason, merges, when each site gets
it) → *Send* (TriageService.submit as that person, source "slack"). Slack wants an answer to a
form within 3 seconds and the judgment may ask an LLM, so the form is answered at once with a
"working" view that is then replaced. Mistakes are shown on the field; only the directory decides
which studies and sites a person may address. Urgent updates go out from the outbox at the next
scheduler tick; the rest wait for each site's digest.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from slack_bolt import Ack, App
from slack_sdk import WebClient

from assistant.scope import UNKNOWN_USER
from bot.command_args import SPONSOR_ROLES, covers_whole_study, notify_sites, notify_studies
from bot.slack import notify_views as v
from bot.slack.blocks import apology, context, section
from bot.slack.failures import guarded
from bot.slack.people import person_of, triage_of
from bot.slack.runtime import SlackRuntime
from core.db import transaction
from core.directory import Directory
from core.domain import Person, Site
from privacy import PARTICIPANT_IDS, redact_fields
from triage.audience import UpdateRejected
from triage.schemas import UpdateIn

if TYPE_CHECKING:
    from bot.slack.commands import Invocation

NOT_SPONSOR = (
    "`/siteline notify` is for the sponsor and CRO team (CRAs, study managers, medical monitors…), to send "
    "updates to sites. To choose when your site hears from Siteline, use `/siteline digest`."
)
NO_STUDIES = (
    "You're not listed on any study yet, so there is nowhere to send an update. Please ask your Siteline admin."
)
METADATA_MAX = 3000
LOST = "This form lost its contents (Slack did not send them back). Nothing was sent: please start again."
FIELD_BLOCKS = {"study": v.STUDY, "subject": v.SUBJECT, "body": v.BODY, "declared_priority": v.PRIORITY, "due": v.DUE}


class FormError(Exception):
    """Input to show on the form, by block id."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def command(inv: Invocation) -> None:
    person = person_of(inv.rt, inv.user.user_id)
    if person is None:
        inv.ack(text=UNKNOWN_USER)
        return
    if person.role not in SPONSOR_ROLES:
        inv.ack(text=NOT_SPONSOR)
        return
    with transaction(inv.rt.container.factory) as session:
        studies = notify_studies(session, person)
        if not studies:
            inv.ack(text=NO_STUDIES)
            return
        draft = v.Draft(study=studies[0], sites=[])
        view = v.compose_view(
            studies, notify_sites(session, person, draft.study), draft, whole_study=covers_whole_study(person)
        )
    inv.ack()
    with guarded("notify form", inv.ref, lambda: inv.respond(text=apology(inv.ref), response_type="ephemeral")):
        inv.client.views_open(trigger_id=inv.command["trigger_id"], view=view)


def _compose(rt: SlackRuntime, person: Person, draft: v.Draft) -> dict[str, Any]:
    with transaction(rt.container.factory) as session:
        studies = notify_studies(session, person)
        sites = notify_sites(session, person, draft.study)
    return v.compose_view(studies, sites, draft, whole_study=covers_whole_study(person))


def read_form(values: dict[str, Any]) -> v.Draft:
    """The form's state as a draft (nothing validated yet)."""

    def el(block: str, action: str) -> dict[str, Any]:
        return (values.get(block) or {}).get(action) or {}

    sites_block = next((b for b in values if b.startswith(v.SITES)), v.SITES)
    study = (el(v.STUDY, v.STUDY_CHANGED).get("selected_option") or {}).get("value") or ""
    return v.Draft(
        study=study,
        sites=[o["value"] for o in el(sites_block, v.SITES).get("selected_options") or []],
        subject=(el(v.SUBJECT, v.SUBJECT).get("value") or "").strip(),
        body=(el(v.BODY, v.BODY).get("value") or "").strip(),
        declared_priority=(el(v.PRIORITY, v.PRIORITY).get("selected_option") or {}).get("value"),
        due=el(v.DUE, v.DUE).get("selected_date"),
        org=(el(v.ORG, v.ORG).get("selected_option") or {}).get("value") or "sponsor",
    )


def to_update(rt: SlackRuntime, person: Person, draft: v.Draft, update_id: str) -> UpdateIn:
    """Validate a draft into the contract's update (sites checked against the directory); FormError if not."""
    sites_block = v.sites_block_id(draft.study)
    with transaction(rt.container.factory) as session:
        allowed = {s.site_id for s in notify_sites(session, person, draft.study)}
    if not allowed:
        raise FormError({v.STUDY: f"You can't send updates for {draft.study or 'this study'}: you're not on it."})
    if not draft.sites:
        raise FormError({sites_block: "Choose at least one site, or all sites."})
    if v.ALL in draft.sites:
        sites: list[str] | str = "all" if covers_whole_study(person) else sorted(allowed)
    else:
        outside = [s for s in draft.sites if s not in allowed]
        if outside:
            raise FormError({sites_block: f"Not one of your sites on {draft.study}: {', '.join(outside)}."})
        sites = draft.sites
    line = {**draft.to_json(), "id": update_id, "from": person.person_id, "sites": sites}
    try:
        # participant identifiers out before it is shown back, stored or sent (as the API and CLI do)
        return redact_fields(UpdateIn.model_validate(line), ("subject", "body"), only=PARTICIPANT_IDS)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            block = sites_block if field == "sites" else FIELD_BLOCKS.get(field, v.SUBJECT)
            known = field == "sites" or field in FIELD_BLOCKS
            errors.setdefault(block, str(err["msg"]) if known else f"{field}: {err['msg']}")
        raise FormError(errors) from None


def _site_map(rt: SlackRuntime, ids: list[str]) -> dict[str, Site]:
    with transaction(rt.container.factory) as session:
        directory = Directory(session)
        return {s.site_id: s for s in (directory.site(i) for i in ids) if s is not None}


def _working(title: str, text: str) -> dict[str, Any]:
    return v.message_view(title, [section(f":hourglass_flowing_sand: {text}")])


def _sorry(ref: str | None) -> dict[str, Any]:
    return v.message_view("Sorry", [section(apology(ref)), context("Nothing was sent.")])


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(v.STUDY_CHANGED)
    def on_study(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        """Another study chosen: offer that study's sites."""
        ack()
        view = body["view"]
        with guarded("notify study change", view.get("id"), lambda: None):
            person = person_of(rt, str(body["user"]["id"]))
            if person is None:
                return
            study = (action.get("selected_option") or {}).get("value")
            draft = read_form(view["state"]["values"])
            draft = v.Draft(**{**draft.to_json(), "study": study or draft.study, "sites": []})
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=_compose(rt, person, draft))

    @app.view(v.COMPOSE)
    def on_preview(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ref = view.get("id")
        person = person_of(rt, str(body["user"]["id"]))
        if person is None or person.role not in SPONSOR_ROLES:
            ack(response_action="errors", errors={v.SUBJECT: UNKNOWN_USER if person is None else NOT_SPONSOR})
            return
        draft = read_form(view["state"]["values"])
        update_id = f"slack-{uuid.uuid4().hex[:12]}"
        try:
            update = to_update(rt, person, draft, update_id)
        except FormError as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        metadata = json.dumps({"id": update_id, "draft": draft.to_json()}, ensure_ascii=False)
        if len(metadata) > METADATA_MAX:
            over = len(metadata) - METADATA_MAX
            ack(response_action="errors", errors={v.BODY: f"Too long to preview here by {over} characters: shorten "
                "it, or send it with `siteline notify --body-file` or POST /api/updates."})  # fmt: skip
            return
        ack(response_action="update", view=_working("Update to sites", "Working out how Siteline will treat it…"))
        with guarded("notify preview", ref, lambda: client.views_update(view_id=view["id"], view=_sorry(ref))):
            try:
                decision = triage_of(rt).preview(update)
            except UpdateRejected as exc:
                client.views_update(view_id=view["id"], view=_compose_with_error(rt, person, draft, exc.message))
                return
            sites = _site_map(rt, [s.site_id for s in decision.sites])
            client.views_update(view_id=view["id"], view=v.confirm_view(decision, draft, sites, metadata))

    @app.action(v.EDIT)
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        view = body["view"]
        with guarded("notify edit", view.get("id"), lambda: None):
            person = person_of(rt, str(body["user"]["id"]))
            if person is None:
                return
            draft = v.Draft(**json.loads(view.get("private_metadata") or "{}")["draft"])
            client.views_update(view_id=view["id"], hash=view.get("hash"), view=_compose(rt, person, draft))

    @app.view(v.CONFIRM)
    def on_send(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        ref = view.get("id")
        person = person_of(rt, str(body["user"]["id"]))
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            draft = v.Draft(**meta["draft"])
            if person is None or person.role not in SPONSOR_ROLES:
                raise FormError({})
            update = to_update(rt, person, draft, str(meta["id"]))
        except (ValueError, KeyError, TypeError):
            ack(response_action="update", view=v.message_view("Not sent", [section(":no_entry: " + LOST)]))
            return
        except FormError as exc:
            why = next(iter(exc.errors.values()), NOT_SPONSOR if person else UNKNOWN_USER)
            ack(response_action="update", view=v.message_view("Not sent", [section(f":no_entry: {why}")]))
            return
        ack(response_action="update", view=_working("Update to sites", "Sending…"))
        with guarded("notify send", ref, lambda: client.views_update(view_id=view["id"], view=_sorry(ref))):
            try:
                decision = triage_of(rt).submit(update, actor=person.person_id, source="slack")
            except UpdateRejected as exc:
                client.views_update(view_id=view["id"], view=_compose_with_error(rt, person, draft, exc.message))
                return
            sites = _site_map(rt, [s.site_id for s in decision.sites])
            client.views_update(view_id=view["id"], view=v.sent_view(decision, draft, sites))


def _compose_with_error(rt: SlackRuntime, person: Person, draft: v.Draft, message: str) -> dict[str, Any]:
    """The form again, with what the triage engine refused on top (rare: the directory changed meanwhile)."""
    view = _compose(rt, person, draft)
    view["blocks"] = [section(f":no_entry: {message}")] + view["blocks"]
    return view
