"""Block Kit for `/siteline notify`: the compose form, the preview of how Siteline will treat the
update (before anything is sent), and the outcome.

A CRA should never be surprised by what a site receives: the preview names the judged priority
and why, whether it folds into an item the site is already waiting for, and when each site gets
it, at once or at its next digest time in its own zone. Pure functions; the handlers are in
`notify.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from assistant.updates import Draft
from bot.slack.blocks import Block, clip, context, escape, section
from core.domain import Site
from escalation.messages import local
from triage.decision import Decision, SiteOutcome

COMPOSE, CONFIRM = "notify_compose", "notify_confirm"
STUDY, SITES, SUBJECT, BODY, PRIORITY, DUE, ORG = (
    "n_study",
    "n_sites",
    "n_subject",
    "n_body",
    "n_priority",
    "n_due",
    "n_org",
)
STUDY_CHANGED, EDIT = "notify_study_changed", "notify_edit"
ALL = "all"
SUBJECT_MAX, BODY_MAX = 200, 2000
PRIORITIES = (("urgent", "Urgent"), ("normal", "Normal"), ("low", "Low"))
ORGS = (("sponsor", "Sponsor"), ("cro", "CRO"))
OUTCOME_ICON = {"immediate": ":rotating_light:", "digest": ":newspaper:", "merged": ":link:", "suppressed": ":mute:"}
PRIORITY_TEXT = {"urgent": "URGENT: sent at once", "action": "ACTION: needs the site to act", "fyi": "FYI"}


def sites_block_id(study: str) -> str:
    """Per study, so Slack does not carry a selection over to a study whose sites differ."""
    return f"{SITES}|{study}"


def _text(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(value, 75), "emoji": True}


def option(label: str, value: str) -> dict[str, Any]:
    return {"text": _text(label), "value": value}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = "") -> Block:
    block: Block = {"type": "input", "block_id": block_id, "label": _text(label), "element": element}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = {"type": "plain_text", "text": clip(hint, 150)}
    return block


def _select(action_id: str, options: list[dict[str, Any]], initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": action_id, "options": options}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen:
        element["initial_option"] = chosen
    return element


def site_label(site: Site) -> str:
    return f"{site.name or site.site_id} ({site.site_id})"


def compose_view(studies: Sequence[str], sites: Sequence[Site], draft: Draft, *, whole_study: bool) -> Block:
    """The form; `sites` are the chosen study's sites this person may address."""
    all_label = f"All sites on {draft.study}" if whole_study else f"All my sites on {draft.study}"
    site_options = [option(all_label, ALL)] + [option(site_label(s), s.site_id) for s in sites[:99]]
    sites_el: dict[str, Any] = {"type": "multi_static_select", "action_id": SITES, "options": site_options}
    chosen = [o for o in site_options if o["value"] in draft.sites]
    if chosen:
        sites_el["initial_options"] = chosen
    subject_el = {"type": "plain_text_input", "action_id": SUBJECT, "max_length": SUBJECT_MAX}
    body_el = {"type": "plain_text_input", "action_id": BODY, "multiline": True, "max_length": BODY_MAX}
    if draft.subject:
        subject_el["initial_value"] = draft.subject
    if draft.body:
        body_el["initial_value"] = draft.body
    due_el: dict[str, Any] = {"type": "datepicker", "action_id": DUE}
    if draft.due:
        due_el["initial_date"] = draft.due
    study_el = _select(STUDY_CHANGED, [option(s, s) for s in studies[:100]], draft.study)
    blocks: list[Block] = [
        {**_input(STUDY, "Study", study_el), "dispatch_action": True},
        _input(sites_block_id(draft.study), "Sites", sites_el),
        _input(SUBJECT, "Subject", subject_el),
        _input(BODY, "Message", body_el, optional=True),
        _input(
            PRIORITY,
            "How urgent is it, in your view?",
            _select(PRIORITY, [option(label, v) for v, label in PRIORITIES], draft.declared_priority),
            hint="A hint: Siteline judges priority from the content, and ignores the hint of senders who mark "
            "most messages urgent.",
        ),
        _input(DUE, "Due date", due_el, optional=True, hint="If the site must act by a date."),
        _input(ORG, "Sent for", _select(ORG, [option(label, v) for v, label in ORGS], draft.org)),
        context("Next you'll see how Siteline will treat it, site by site. Nothing is sent before you confirm."),
    ]
    return {
        "type": "modal",
        "callback_id": COMPOSE,
        "title": _text("Update to sites"),
        "submit": _text("Preview"),
        "close": _text("Cancel"),
        "blocks": blocks,
    }


def _due(value: str | None) -> str:
    if not value:
        return ""
    day = date.fromisoformat(value)
    return f" · due {day:%a} {day.day} {day:%b %Y}"


def outcome_line(o: SiteOutcome, sites: Mapping[str, Site]) -> str:
    """One site's fate, in its own words: when it gets the update, and why."""
    site = sites.get(o.site_id)
    name = f"*{escape(site_label(site) if site else o.site_id)}*"
    tz = site.tz if site else "UTC"
    when = f"{local(o.digest_at, tz)} ({tz})" if o.digest_at else ""
    if o.outcome == "immediate":
        what = "at once"
    elif o.outcome == "digest":
        what = f"in its next digest, {when}" if when else "in its next digest"
    elif o.outcome == "merged":
        what = f"merged into {escape(o.carrier or 'a pending update')}" + (f", out with it {when}" if when else "")
    else:
        what = f"not shown again (repeat of {escape(o.carrier or 'an earlier update')})"
    return f"{OUTCOME_ICON.get(o.outcome, '•')} {name}: {what}. _{escape(clip(o.reason, 300))}_"


def _outcome_sections(decision: Decision, sites: Mapping[str, Site]) -> list[Block]:
    """Per-site lines packed into sections (3,000 characters each, at most 20 sections)."""
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in (outcome_line(o, sites) for o in decision.sites):
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if len(blocks) > 20:
        counts = ", ".join(f"{n} {k}" for k, n in decision.counts().items() if n)
        blocks = [*blocks[:19], context(f"…more sites not listed here ({counts} in all).")]
    return blocks


def _summary(decision: Decision, draft: Draft) -> list[Block]:
    icon = {"urgent": ":rotating_light:", "action": ":pushpin:", "fyi": ":information_source:"}.get(decision.priority)
    head = f"*{escape(clip(draft.subject, 300))}*{_due(draft.due)}\n{escape(draft.study)} · from you ({draft.org})"
    judged = PRIORITY_TEXT.get(decision.priority, decision.priority)
    blocks = [section(head), section(f"{icon} *Siteline's judgment: {judged}*\n{escape(decision.reason)}")]
    if decision.sender_flooding:
        blocks.append(
            context(":warning: Most of your recent updates were marked urgent, so the urgent hint is ignored.")
        )
    return blocks


def confirm_view(decision: Decision, draft: Draft, sites: Mapping[str, Site], metadata: str) -> Block:
    blocks = [*_summary(decision, draft), section("*What each site gets*"), *_outcome_sections(decision, sites)]
    blocks.append(context("Nothing has been sent yet. *Send* stores it and delivers it as shown above."))
    blocks.append({"type": "actions", "block_id": "notify_actions", "elements": [_button("Edit", EDIT)]})
    return {
        "type": "modal",
        "callback_id": CONFIRM,
        "private_metadata": metadata,
        "title": _text("Check and send"),
        "submit": _text("Send"),
        "close": _text("Cancel"),
        "blocks": blocks,
    }


def _button(label: str, action_id: str) -> dict[str, Any]:
    return {"type": "button", "text": _text(label), "action_id": action_id, "value": action_id}


def sent_view(decision: Decision, draft: Draft, sites: Mapping[str, Site]) -> Block:
    counts = decision.counts()
    said = ", ".join(
        f"{n} {label}"
        for key, label in (
            ("immediate", "at once"),
            ("digest", "in digests"),
            ("merged", "merged"),
            ("suppressed", "not repeated"),
        )
        if (n := counts.get(key))
    )
    head = "Already received earlier: nothing new was sent." if decision.already_received else f"Sent: {said}."
    blocks = [section(f":white_check_mark: *{head}*"), *_summary(decision, draft), *_outcome_sections(decision, sites)]
    return message_view("Update sent", blocks[:50])


def message_view(title: str, blocks: list[Block]) -> Block:
    """A modal with only a Close button (working, done, or sorry)."""
    return {"type": "modal", "title": _text(title), "close": _text("Close"), "blocks": blocks}
