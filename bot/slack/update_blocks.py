"""Block Kit for what the engines send: sponsor updates (urgent, digest); escalations are in
`escalation_blocks.py`, questions and answers in `blocks.py`.

Payloads come from the triage engine (`items`, `details`, `slot`), plus what the sender adds
from the directory for the reader (`site_name`, `site_tz`); unknown fields are ignored and
missing ones left out, so the wording stays readable as the engines grow. A digest lists action
items first (earliest due first), then the FYIs, each with Siteline's reason in a context block and
merged repeats as "also: …". A digest too big for one message (50 blocks, and Slack's ~13k characters
of block text, `msg_blocks_too_long`) is split into "Digest (1/3)", "(2/3)", … (`bot/pages.py`); over
three parts it goes compact (no bodies). Every item appears in exactly one part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from bot import pages
from bot.slack import escalation_blocks
from bot.slack.blocks import Block, clip, context, cra_answer_blocks, escape, open_question_blocks, section
from core.clock import parse_instant
from escalation.messages import local

Rendered = tuple[str, list[Block]]
Item = Mapping[str, Any]
PRIORITY_ICON = {"urgent": ":rotating_light:", "action": ":pushpin:", "fyi": ":information_source:"}
GROUPS = (
    ("urgent", ":rotating_light: *Urgent*"),
    ("action", ":pushpin: *Action needed*"),
    ("fyi", ":information_source: *For your information*"),
)
MAX_BLOCKS = 50
BODY_CLIP = 500
TEXT_BUDGET = 11_000  # characters of block text per message: Slack refuses from ~13,200 (bolt-js#2509)
HEADER_ROOM = 2  # the part's header and its slot line


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, 150), "emoji": True}}


def _details(payload: Mapping[str, Any], item: Item) -> Mapping[str, Any]:
    found = (payload.get("details") or {}).get(str(item.get("id")))
    return found if isinstance(found, Mapping) else {}


def _title(item: Item, d: Mapping[str, Any]) -> str:
    return str(d.get("subject") or item.get("subject") or item.get("title") or item.get("id") or "update")


def due_text(value: Any) -> str:
    """`due Tue 10 Mar 2026` from the contract's YYYY-MM-DD (as written when it is not a date)."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return f"due {escape(str(value))}"
    return f"due {day:%a} {day.day} {day:%b %Y}"


def _also(payload: Mapping[str, Any], item: Item) -> str:
    """Merged repeats, by their subject where the payload carries it: `also: Reminder: … (m4)`."""
    merged = [str(m) for m in item.get("merged") or []]
    if not merged:
        return ""
    names = []
    for uid in merged:
        subject = ((payload.get("details") or {}).get(uid) or {}).get("subject")
        names.append(f"{escape(str(subject))} ({escape(uid)})" if subject else escape(uid))
    return "_also: " + "; ".join(names) + "_"


def _item_text(payload: Mapping[str, Any], item: Item, *, compact: bool) -> str:
    d = _details(payload, item)
    due = d.get("due") or item.get("due")
    head = f"*{escape(clip(_title(item, d), 300))}*" + (f" · {due_text(due)}" if due else "")
    lines = [head]
    source = " · ".join(escape(str(x)) for x in (d.get("study"), d.get("from")) if x)
    if source:
        lines.append(source)
    body = d.get("body") or item.get("summary") or item.get("body")
    if body and not compact:
        lines.append(">" + escape(clip(" ".join(str(body).split()), BODY_CLIP)))
    also = _also(payload, item)
    if also:
        lines.append(also)
    if compact and item.get("reason"):
        lines.append(f"_Why: {escape(clip(str(item['reason']), 300))}_")
    return "\n".join(lines)


def _items(payload: Mapping[str, Any]) -> list[Item]:
    return [i for i in payload.get("items") or [] if isinstance(i, Mapping)]


def _grouped(items: list[Item]) -> list[tuple[str, list[Item]]]:
    """Urgent, then action (earliest due first, as triage ordered them), then FYI."""
    known = {p for p, _ in GROUPS}
    out = [(title, [i for i in items if i.get("priority") == p]) for p, title in GROUPS]
    other = [i for i in items if i.get("priority") not in known]
    if other:
        out.append(("*Other*", other))
    return [(title, group) for title, group in out if group]


def _site(payload: Mapping[str, Any]) -> str:
    return str(payload.get("site_name") or payload.get("site") or "")


def _units(payload: Mapping[str, Any], groups: list[tuple[str, list[Item]]], *, compact: bool) -> list[list[Block]]:
    """Each item's blocks, kept together: its section (with the reason folded in when compact), its
    reason as context otherwise; the first item of a group carries the group's heading."""
    units: list[list[Block]] = []
    for title, group in groups:
        for n, item in enumerate(group):
            unit = [section(f"{title} ({len(group)})")] if n == 0 else []
            unit.append(section(_item_text(payload, item, compact=compact)))
            if not compact and item.get("reason"):
                unit.append(context(f"Why: {escape(str(item['reason']))}"))
            units.append(unit)
    return units


def block_chars(node: Any) -> int:
    """Characters of every `text` string in a block (what Slack's message-size limit counts)."""
    if isinstance(node, dict):
        own = len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(block_chars(v) for v in node.values() if isinstance(v, dict | list))
    if isinstance(node, list):
        return sum(block_chars(v) for v in node)
    return 0


def render_immediate(payload: Mapping[str, Any]) -> Rendered:
    """An urgent update: a loud header, the update itself, and why Siteline did not wait for the digest."""
    items = _items(payload)
    site = _site(payload)
    title = ":rotating_light: URGENT sponsor update" + (f" · {site}" if site else "")
    blocks: list[Block] = [header(title)]
    for item in items[:20]:
        blocks.append(section(_item_text(payload, item, compact=False)))
        if item.get("reason"):
            blocks.append(context(f":rotating_light: Sent at once, not in the digest: {escape(str(item['reason']))}"))
    if payload.get("text"):
        blocks.append(context(escape(str(payload["text"]))))
    first = _title(items[0], _details(payload, items[0])) if items else "sponsor update"
    return clip(f"URGENT: {first}" + (f" ({site})" if site else ""), 3000), blocks[:MAX_BLOCKS]


def render_digest_parts(payload: Mapping[str, Any]) -> list[Rendered]:
    """The site's digest as one message or several ("(2/3)"), each within Slack's limits: header with
    the site and the count, grouped items, reasons, merged repeats."""
    items = _items(payload)
    site = _site(payload)
    count = f"{len(items)} update{'s' if len(items) != 1 else ''}"
    groups = _grouped(items)
    parts = pages.split(
        _units(payload, groups, compact=False),
        lambda: _units(payload, groups, compact=True),
        weigh=block_chars,
        budget=TEXT_BUDGET,
        max_elements=MAX_BLOCKS - HEADER_ROOM,
    )
    tz = payload.get("site_tz")
    slot = None
    if payload.get("slot") and tz:
        when = local(parse_instant(str(payload["slot"])), str(tz))
        slot = context(f"Your digest of sponsor updates for {escape(when)} ({escape(str(tz))}).")
    out: list[Rendered] = []
    for k, part in enumerate(parts, start=1):
        of = pages.label(k, len(parts))
        title = f":newspaper: Digest{of} for {site} · {count}" if site else f":newspaper: Digest{of} · {count}"
        blocks: list[Block] = [header(title)] + ([slot] if slot and k == 1 else []) + part
        out.append((f"Digest of sponsor updates for {site or 'your site'} ({count}){of}", blocks))
    return out


def render_digest(payload: Mapping[str, Any]) -> Rendered:
    """The first (or only) part of the digest; `render_parts` gives them all."""
    return render_digest_parts(payload)[0]


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
    "escalation": escalation_blocks.render_notice,
    "escalation_update": escalation_blocks.render_update,
    "open_question": render_open_question,
    "cra_answer": render_cra_answer,
}


def render(kind: str, payload: Mapping[str, Any]) -> Rendered:
    return RENDERERS.get(kind, render_text)(payload)


def render_parts(kind: str, payload: Mapping[str, Any]) -> list[Rendered]:
    """Every message this outbox row becomes, in order (several only for a long digest)."""
    return render_digest_parts(payload) if kind == "digest" else [render(kind, payload)]
