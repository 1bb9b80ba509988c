"""Block Kit for what the engines send: sponsor updates (urgent, digest); escalations are in
`escalation_blocks.py`, questions and answers in `blocks.py`.

Payloads come from the triage engine (`items`, `details`, `slot`), plus what the sender adds
from the directory for the reader (`site_name`, `site_tz`); unknown fields are ignored and
missing ones left out, so the wording stays readable as the engines grow. A digest is one
message: action items first (earliest due first), then the FYIs, each with Siteline's reason in
a context block and merged repeats as "also: …", within Slack's 50-block limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

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


def _item_blocks(payload: Mapping[str, Any], groups: list[tuple[str, list[Item]]], room: int) -> list[Block]:
    """Each item as a section plus a reason context when there is room, else one section each;
    whatever still does not fit is listed by title in a last section (nothing is left out)."""
    n = sum(len(g) for _, g in groups)
    compact = len(groups) + 2 * n > room
    blocks: list[Block] = []
    leftover: list[str] = []
    for title, group in groups:
        if len(blocks) + 2 > room:
            leftover += [f"• {escape(_title(i, _details(payload, i)))}" for i in group]
            continue
        blocks.append(section(f"{title} ({len(group)})"))
        for item in group:
            if len(blocks) + (1 if compact else 2) > room - 1:
                leftover.append(f"• {escape(_title(item, _details(payload, item)))}")
                continue
            blocks.append(section(_item_text(payload, item, compact=compact)))
            if not compact and item.get("reason"):
                blocks.append(context(f"Why: {escape(str(item['reason']))}"))
    if leftover:
        blocks.append(section(clip(f"*…and {len(leftover)} more*\n" + "\n".join(leftover), 3000)))
    return blocks


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


def render_digest(payload: Mapping[str, Any]) -> Rendered:
    """The site's digest: header with the site and the count, grouped items, reasons, merged repeats."""
    items = _items(payload)
    site = _site(payload)
    count = f"{len(items)} update{'s' if len(items) != 1 else ''}"
    title = f":newspaper: Digest for {site} · {count}" if site else f":newspaper: Digest · {count}"
    blocks: list[Block] = [header(title)]
    tz = payload.get("site_tz")
    if payload.get("slot") and tz:
        when = local(parse_instant(str(payload["slot"])), str(tz))
        blocks.append(context(f"Your digest of sponsor updates for {escape(when)} ({escape(str(tz))})."))
    blocks += _item_blocks(payload, _grouped(items), MAX_BLOCKS - len(blocks))
    return f"Digest of sponsor updates for {site or 'your site'} ({count})", blocks


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
