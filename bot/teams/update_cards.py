"""Adaptive Cards for what the engines send: urgent updates, digests, escalations and their updates,
Ask-my-CRA questions and CRA answers.

Payloads come from the triage and escalation engines (`items`, `details`, `escalation`, `text`)
and the assistant; unknown fields are ignored and missing ones left out, so the wording stays
readable as those engines grow. A digest too big for one card (Teams refuses messages over ~28 KB
with 413 MessageSizeTooBig) is split into "(1/3)", "(2/3)", … (`bot/pages.py`); over three parts it
goes compact (no bodies). Every item appears in exactly one part.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from assistant.outbound import deadline_text
from bot import pages
from bot.teams.cards import (
    ESC_ACK,
    ESC_RESOLVE,
    Card,
    Element,
    card,
    clip,
    cra_answer_card,
    execute,
    open_question_card,
    subtle,
    text_block,
)

Rendered = tuple[str, Card]
PRIORITY_ICON = {"urgent": "🚨", "action": "📌", "fyi": "ℹ️"}
CARD_BUDGET = 19_000  # bytes of card JSON per message: under 28 KB with the envelope, and under the
# 40 KB that Teams' bot documentation gives for the UTF-16 payload
MAX_ELEMENTS = 200


def _item(item: Mapping[str, Any], details: Mapping[str, Any], *, compact: bool = False) -> Element:
    d = details.get(str(item.get("id"))) or {}
    icon = PRIORITY_ICON.get(str(item.get("priority", "")), "•")
    title = clip(str(d.get("subject") or item.get("subject") or item.get("title") or item.get("id", "update")), 300)
    head = [f"{icon} **{title}**"]
    if item.get("priority"):
        head.append(f"_{item['priority']}_")
    due = d.get("due") or item.get("due")
    if due:
        head.append(f"due {due}")
    items: list[Element] = [text_block(" · ".join(head))]
    source = " · ".join(str(x) for x in (d.get("study"), d.get("from"), d.get("org")) if x)
    if source:
        items.append(subtle(source))
    if item.get("reason"):
        items.append(subtle(clip(str(item["reason"]), 500)))
    body = d.get("body") or item.get("summary") or item.get("body")
    if body and not compact:
        items.append(text_block(clip(" ".join(str(body).split()), 600), spacing="Small"))
    if item.get("merged"):
        merged = ", ".join(map(str, item["merged"]))
        items.append(subtle(f"Also covers {len(item['merged'])} repeated message(s): {merged}"))
    return {"type": "Container", "separator": True, "items": items}


def _items(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [i for i in payload.get("items") or [] if isinstance(i, Mapping)]


def render_immediate(payload: Mapping[str, Any]) -> Rendered:
    items, details = _items(payload), payload.get("details") or {}
    body: list[Element] = [text_block("🚨 **Urgent sponsor update**", size="Medium", color="Attention")]
    body += [_item(i, details) for i in items[:20]]
    if payload.get("text"):
        body.append(subtle(str(payload["text"])))
    return f"Urgent sponsor update ({len(items)})", card(body)


def _weight(element: Element) -> int:
    return len(json.dumps(element, ensure_ascii=False).encode())


def render_digest_parts(payload: Mapping[str, Any]) -> list[Rendered]:
    """The digest as one card or several ("(2/3)"), each within Teams' message size."""
    items, details = _items(payload), payload.get("details") or {}
    parts = pages.split(
        [[_item(i, details)] for i in items],
        lambda: [[_item(i, details, compact=True)] for i in items],
        weigh=_weight,
        budget=CARD_BUDGET,
        max_elements=MAX_ELEMENTS,
    )
    out: list[Rendered] = []
    for k, part in enumerate(parts, start=1):
        of = pages.label(k, len(parts))
        head = text_block(f"📰 **Your digest of sponsor updates** ({len(items)}){of}", size="Medium")
        out.append((f"Digest of sponsor updates ({len(items)}){of}", card([head, *part])))
    return out


def render_digest(payload: Mapping[str, Any]) -> Rendered:
    """The first (or only) part of the digest; `render_parts` gives them all."""
    return render_digest_parts(payload)[0]


def escalation_facts(payload: Mapping[str, Any]) -> Element:
    esc = payload.get("escalation") or {}
    chain = payload.get("chain_position") or {}
    facts = [
        ("Site", payload.get("site_name") or payload.get("site")),
        ("Study", payload.get("study")),
        ("Category", esc.get("category")),
        ("Severity", esc.get("severity")),
        ("Level", f"{chain['level']} of {chain['of']}" if chain.get("level") else esc.get("level")),
        ("Raised by", payload.get("raised_by_name") or payload.get("raised_by")),
    ]
    return {"type": "FactSet", "facts": [{"title": k, "value": str(v)} for k, v in facts if v]}


def render_escalation(payload: Mapping[str, Any]) -> Rendered:
    """A notice to one person on the ladder, with Acknowledge and Resolve."""
    esc = payload.get("escalation") or {}
    esc_id = str(esc.get("id", ""))
    body: list[Element] = [text_block(f"⚠️ **Escalation {esc_id}**", size="Medium", color="Warning")]
    body.append(escalation_facts(payload))
    summary = payload.get("summary")
    if summary:
        body.append(text_block(clip(str(summary), 2800), style="emphasis"))
    if payload.get("ack_within_text"):
        body.append(subtle(str(payload.get("deadline_text") or deadline_text(payload))))
    elif payload.get("text"):
        body.append(subtle(clip(str(payload["text"]), 1500)))
    data = {"escalation_id": esc_id}
    actions = [execute("Acknowledge", ESC_ACK, data, style="positive"), execute("Resolve", ESC_RESOLVE, data)]
    return f"Escalation {esc_id}", card(body, actions)


def escalation_status_card(esc_id: str, text: str, *, can_resolve: bool) -> Card:
    """Replaces an escalation card after a click: what happened (`text` carries the outcome's own mark,
    ✅ or 🏁), and Resolve while it is still open."""
    body = [text_block(f"⚠️ **Escalation {esc_id}**"), text_block(text)]
    actions = [execute("Resolve", ESC_RESOLVE, {"escalation_id": esc_id})] if can_resolve else []
    return card(body, actions)


def render_escalation_update(payload: Mapping[str, Any]) -> Rendered:
    esc = payload.get("escalation") or {}
    text = payload.get("text") or f"Escalation {esc.get('id', '')}: {esc.get('status', 'updated')}"
    return str(text), card([text_block(f"🔄 {text}")])


def render_open_question(payload: Mapping[str, Any]) -> Rendered:
    return f"Question from {payload.get('asked_by_name') or payload.get('asked_by')}", open_question_card(payload)


def render_cra_answer(payload: Mapping[str, Any]) -> Rendered:
    return f"Answer from your CRA, {payload.get('cra_name') or payload.get('cra')}", cra_answer_card(payload)


def render_text(payload: Mapping[str, Any]) -> Rendered:
    text = str(payload.get("text") or "Update from Siteline")
    return text, card([text_block(text)])


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


def render_parts(kind: str, payload: Mapping[str, Any]) -> list[Rendered]:
    """Every message this outbox row becomes, in order (several only for a long digest)."""
    return render_digest_parts(payload) if kind == "digest" else [render(kind, payload)]
