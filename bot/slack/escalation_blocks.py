"""Block Kit for escalations: the recipient's DM (with Acknowledge / Resolve), the site thread's root
and steps, and the path a site's issue would take.

Sites fear escalating because they cannot see where an issue goes, and recipients need to see at
a glance what it is and by when to act; so every message names people, local times and the next
step. Pure functions of the engine's platform-neutral payloads (plus the reader's zone and the
ack deadline the sender looks up); wording lives here only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from assistant.escalations import Ladder
from assistant.outbound import deadline_text
from bot.ladder_text import CRITICAL_LABEL, NOBODY, ladder_notes, level_roles, level_timing
from bot.slack.blocks import Block, button, clip, context, escape, section
from escalation.messages import CATEGORY_LABELS, category_text, role_label

Rendered = tuple[str, list[Block]]
ACK, RESOLVE = "escalation_ack", "escalation_resolve"
STATUS_ICON = {
    "raised": ":mega:",
    "notified": ":bell:",
    "handed_on": ":arrow_double_up:",
    "acknowledged": ":white_check_mark:",
    "resolved": ":checkered_flag:",
    "halted": ":no_entry:",
}


def _field(label: str, value: Any) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{escape(clip(str(value), 500))}"}


def notice_buttons(esc_id: str, *, ack: bool = True) -> Block:
    resolve = button("Resolve", RESOLVE, esc_id)
    resolve["confirm"] = {
        "title": {"type": "plain_text", "text": "Mark it resolved?"},
        "text": {"type": "mrkdwn", "text": "The site and everyone already told will hear it is resolved."},
        "confirm": {"type": "plain_text", "text": "Resolve"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    elements = ([button("Acknowledge", ACK, esc_id, style="primary")] if ack else []) + [resolve]
    return {"type": "actions", "block_id": f"escalation:{esc_id}", "elements": elements}


def render_notice(payload: Mapping[str, Any]) -> Rendered:
    """A person's DM: what, where, how serious, why them, by when; Acknowledge and Resolve."""
    esc = payload.get("escalation") or {}
    esc_id = str(esc.get("id", ""))
    chain = payload.get("chain_position") or {}
    level = f"{chain.get('level')} of {chain.get('of')}" if chain.get("level") else str(esc.get("level", ""))
    inferred = bool(esc.get("inferred"))
    site = payload.get("site_name") or payload.get("site") or ""
    site_text = f"{site} ({payload['site']})" if payload.get("site") and site != payload.get("site") else site
    fields = [
        _field("Site", site_text),
        _field("Study", payload.get("study", "")),
        _field("Category", category_text(esc.get("category"), inferred)),
        _field("Severity", str(esc.get("severity", "")) + (" (inferred)" if inferred else "")),
        _field("Level", f"{level} · you, as {role_label(str(payload.get('role', '')))}"),
        _field("Raised by", payload.get("raised_by_name") or payload.get("raised_by") or ""),
    ]
    blocks: list[Block] = [
        section(f":warning: *Escalation {escape(esc_id)}* from {escape(str(site))}"),
        {"type": "section", "fields": fields},
    ]
    if payload.get("summary"):
        blocks.append(section(">" + escape(clip(" ".join(str(payload["summary"]).split()), 2800))))
    if inferred and payload.get("inference_reason"):
        blocks.append(context(f"Siteline's reading: {escape(str(payload['inference_reason']))}"))
    blocks.append({**section(_deadline_line(payload)), "block_id": "deadline"})
    blocks.append(notice_buttons(esc_id))
    return f"Escalation {esc_id} from {site}: please acknowledge", blocks


def _deadline_line(payload: Mapping[str, Any]) -> str:
    text = str(payload.get("deadline_text") or deadline_text(payload))
    return f":hourglass_flowing_sand: *{escape(text)}*"


def acted_blocks(original: Sequence[Block], note: str, *, esc_id: str, still_open: bool) -> list[Block]:
    """The DM after a click: the same facts, the outcome, and Resolve while it is only acknowledged."""
    gone = ("actions",)
    kept = [b for b in original if b.get("type") not in gone and b.get("block_id") not in ("acted", "deadline")]
    kept.append({"type": "context", "block_id": "acted", "elements": [{"type": "mrkdwn", "text": clip(note, 2000)}]})
    if still_open:
        kept.append(notice_buttons(esc_id, ack=False))
    return kept


def render_update(payload: Mapping[str, Any]) -> Rendered:
    """A status step (site thread or a person already involved): the engine's plain text, with an icon."""
    esc = payload.get("escalation") or {}
    status = str(esc.get("status", ""))
    text = str(payload.get("text") or f"Escalation {esc.get('id', '')}: {status or 'updated'}")
    head, _, rest = text.partition("\n")
    icon = ":mega:" if payload.get("event") == "raise" else STATUS_ICON.get(status, ":arrows_counterclockwise:")
    blocks = [section(f"{icon} {escape(head)}")]
    lines = [line for line in rest.splitlines() if line.strip()]
    if lines:
        blocks.append(section("\n".join(f"• {escape(x)}" if x.startswith("Level ") else escape(x) for x in lines)))
    return clip(text, 3000), blocks


def root_blocks(view: Mapping[str, Any], raised_by: str, status_note: str) -> Rendered:
    """The site channel's root message of an escalation; its thread carries every step."""
    summary = " ".join(str(view.get("summary", "")).split())
    facts = " · ".join(
        [
            escape(str(view.get("id", ""))),
            escape(str(view.get("study", ""))),
            category_text(view.get("category"), bool(view.get("inferred"))),
            escape(str(view.get("severity", ""))),
            f"raised by {escape(raised_by)}",
        ]
    )
    blocks = [
        section(f":rotating_light: *Escalation raised:* {escape(clip(summary, 2800))}"),
        context(facts),
        context(status_note),
    ]
    return clip(f"Escalation raised: {summary}", 3000), blocks


def status_note(view: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One line for the root message: where the escalation stands now (the thread has the details)."""
    status = str(view.get("status", ""))
    icon = STATUS_ICON.get(status, ":hourglass_flowing_sand:")
    if status == "acknowledged":
        return f"{icon} Acknowledged by {escape(names.get(str(view.get('acked_by')), str(view.get('acked_by'))))}"
    if status == "resolved":
        return f"{icon} Resolved by {escape(names.get(str(view.get('resolved_by')), str(view.get('resolved_by'))))}"
    if status == "halted" or view.get("halted"):
        return f"{STATUS_ICON['halted']} Stopped: {escape(str(view.get('halted') or 'routing gap'))}"
    roles = " / ".join(role_label(r) for r in view.get("current_roles") or [])
    return f"{icon} With level {view.get('level')} ({roles or '…'}). Updates follow in this thread."


def notified_line(payload: Mapping[str, Any], name: str) -> str:
    """The thread's step when a person's notice has gone out: who has it now, and for how long."""
    chain = payload.get("chain_position") or {}
    role = role_label(str(payload.get("role", "")))
    wait = f"; {payload['ack_within_text']} to acknowledge" if payload.get("ack_within_text") else " (last level)"
    return f":bell: Level {chain.get('level', '?')} notified: {escape(name)} ({role}){wait}."


def path_blocks(
    path: Mapping[str, Any],
    *,
    site_name: str,
    tz: str,
    critical: Mapping[str, Any] | None,
    now: datetime | None = None,
) -> list[Block]:
    """`describe_path` as a site reads it: each level's roles and names, when they are told (site time),
    how long they have (after the site tier's factor), working hours, and what *critical* changes."""
    label = CATEGORY_LABELS.get(str(path.get("category")), str(path.get("category")))
    blocks: list[Block] = [
        section(
            f"*Who an issue from {escape(site_name)} on {escape(str(path.get('study')))} reaches*\n"
            f"{escape(label[:1].upper() + label[1:])}, {escape(str(path.get('severity')))}"
        )
    ]
    if path.get("inference_reason"):
        blocks.append(context(f"Siteline's reading of your text: {escape(str(path['inference_reason']))}"))
    levels = list(path.get("levels") or [])
    for n, level in enumerate(levels[:12], start=1):
        blocks.append(section(_level_text(level, tz, last=n == len(levels), now=now)))
    notes = [escape(n).replace(CRITICAL_LABEL, f"*{CRITICAL_LABEL}*", 1) for n in ladder_notes(path, critical)]
    blocks.append(context(" ".join(notes)))
    return blocks


def _level_text(level: Mapping[str, Any], tz: str, *, last: bool, now: datetime | None) -> str:
    names = ", ".join(escape(str(p.get("name"))) for p in level.get("people") or []) or NOBODY
    line = f"*Level {level.get('level')} · {escape(level_roles(level))}:* {names}"
    return line + "\n" + level_timing(level, tz, last=last, now=now)


def ladder_blocks(ladder: Ladder, *, with_critical: bool = True) -> list[Block]:
    site = ladder.where.site
    critical = ladder.critical if with_critical else None
    name = site.name or site.site_id
    blocks = path_blocks(ladder.path, site_name=name, tz=site.tz, critical=critical, now=ladder.now)
    return [{"type": "divider"}, *blocks]
