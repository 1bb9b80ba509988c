"""Block Kit for what the engines send: sponsor updates (immediate, digest) and escalations.

Payloads come from the triage and escalation engines (`items`, `escalation`, optional `text`);
unknown fields are ignored and missing ones are left out, so the wording stays readable as
those engines grow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.slack.blocks import Block, clip, context, cra_answer_blocks, escape, open_question_blocks, section

Rendered = tuple[str, list[Block]]
PRIORITY_ICON = {"urgent": ":rotating_light:", "action": ":pushpin:", "fyi": ":information_source:"}


def _item_line(item: Mapping[str, Any]) -> str:
    icon = PRIORITY_ICON.get(str(item.get("priority", "")), "•")
    title = item.get("subject") or item.get("title") or item.get("id", "update")
    parts = [f"{icon} *{escape(str(title))}*"]
    if item.get("priority"):
        parts.append(f"_{escape(str(item['priority']))}_")
    if item.get("due"):
        parts.append(f"due {escape(str(item['due']))}")
    line = " · ".join(parts)
    if item.get("reason"):
        line += f"\n{escape(str(item['reason']))}"
    body = item.get("summary") or item.get("body")
    if body:
        line += f"\n>{escape(clip(' '.join(str(body).split()), 600))}"
    if item.get("merged"):
        line += (
            f"\n_also covers {len(item['merged'])} repeated message(s): {escape(', '.join(map(str, item['merged'])))}_"
        )
    return line


def _items(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [i for i in payload.get("items") or [] if isinstance(i, Mapping)]


def render_immediate(payload: Mapping[str, Any]) -> Rendered:
    items = _items(payload)
    blocks = [section(":rotating_light: *Urgent sponsor update*")] + [section(_item_line(i)) for i in items[:20]]
    if payload.get("text"):
        blocks.append(context(escape(str(payload["text"]))))
    return f"Urgent sponsor update ({len(items)})", blocks


def render_digest(payload: Mapping[str, Any]) -> Rendered:
    items = _items(payload)
    blocks: list[Block] = [section(f":newspaper: *Your digest of sponsor updates* ({len(items)})")]
    blocks += [section(_item_line(i)) for i in items[:40]]
    if len(items) > 40:
        blocks.append(context(f"…and {len(items) - 40} more."))
    return f"Digest of sponsor updates ({len(items)})", blocks


def render_escalation(payload: Mapping[str, Any]) -> Rendered:
    esc = payload.get("escalation") or {}
    head = f":warning: *Escalation {escape(str(esc.get('id', '')))}*"
    facts = [f"{k}: {escape(str(esc[k]))}" for k in ("site", "study", "category", "severity", "level") if esc.get(k)]
    blocks = [section(head + ("\n" + " · ".join(facts) if facts else ""))]
    summary = esc.get("summary") or payload.get("text")
    if summary:
        blocks.append(section(f">{escape(clip(str(summary), 2800))}"))
    if esc.get("deadline") or esc.get("ack_within"):
        blocks.append(context(f"Please acknowledge by {escape(str(esc.get('deadline') or esc.get('ack_within')))}."))
    return f"Escalation {esc.get('id', '')}", blocks


def render_escalation_update(payload: Mapping[str, Any]) -> Rendered:
    esc = payload.get("escalation") or {}
    text = payload.get("text") or f"Escalation {esc.get('id', '')}: {esc.get('status', 'updated')}"
    return str(text), [section(f":arrows_counterclockwise: {escape(str(text))}")]


def render_open_question(payload: Mapping[str, Any]) -> Rendered:
    return f"Question from {payload.get('asked_by_name') or payload.get('asked_by')}", open_question_blocks(payload)


def render_cra_answer(payload: Mapping[str, Any]) -> Rendered:
    return f"Answer from your CRA, {payload.get('cra_name') or payload.get('cra')}", cra_answer_blocks(payload)


def render_text(payload: Mapping[str, Any]) -> Rendered:
    text = str(payload.get("text") or "Update from Siteline")
    return text, [section(escape(text))]


RENDERERS: dict[str, Callable[[Mapping[str, Any]], Rendered]] = {
    "immediate": render_immediate,
    "digest": render_digest,
    "escalation": render_escalation,
    "escalation_update": render_escalation_update,
    "open_question": render_open_question,
    "cra_answer": render_cra_answer,
}


def render(kind: str, payload: Mapping[str, Any]) -> Rendered:
    return RENDERERS.get(kind, render_text)(payload)
