"""E-mails for what the engines send: the same facts as the Slack and Teams messages, as plain text
and HTML alternatives of one `EmailMessage`.

Each kind is first said as a short list of blocks (a heading, facts, a quote, a list, a link), and
both bodies are written from those blocks, so the text and HTML alternatives can never say different
things. Payload text is untrusted (a site's summary, a sponsor's update): the HTML escapes every
value, and no link is made from payload text. Pure functions of the payload, plus the ack link the
sender issued for this reader.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from core.clock import parse_instant
from escalation.messages import CATEGORY_LABELS, local, role_label

SUBJECT_MAX = 120
BODY_CLIP = 2800


@dataclass(frozen=True)
class Block:
    """One part of a message: `heading`, `para`, `quote`, `facts` (label, value pairs), `items`
    (a bulleted list), `link` (label, url) or `note` (small print)."""

    kind: str
    value: Any


@dataclass(frozen=True)
class Mail:
    subject: str
    blocks: list[Block]


def clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(iso_text: Any, tz: str) -> str:
    return f"{local(parse_instant(str(iso_text)), tz)} ({tz})" if iso_text else ""


def category_text(category: Any, inferred: bool = False) -> str:
    label = CATEGORY_LABELS.get(str(category), str(category or "other"))
    return label[:1].upper() + label[1:] + (" (inferred by Siteline)" if inferred else "")


def _site(payload: Mapping[str, Any]) -> str:
    name, site_id = payload.get("site_name"), payload.get("site")
    if name and site_id and name != site_id:
        return f"{name} ({site_id})"
    return str(name or site_id or "")


# -- escalations ------------------------------------------------------------------------------


def escalation_notice(payload: Mapping[str, Any], ack_url: str | None) -> Mail:
    """A person's notice: what, where, how serious, why them, the ladder so far, by when, the link."""
    esc = payload.get("escalation") or {}
    esc_id = str(esc.get("id", ""))
    inferred = bool(esc.get("inferred"))
    chain = payload.get("chain_position") or {}
    level = f"{chain.get('level')} of {chain.get('of')}" if chain.get("level") else str(esc.get("level", ""))
    tz = str(payload.get("reader_tz") or "UTC")
    site = _site(payload)
    facts = [
        ("Site", site),
        ("Study", payload.get("study", "")),
        ("Category", category_text(esc.get("category"), inferred)),
        ("Severity", str(esc.get("severity", "")) + (" (inferred)" if inferred else "")),
        ("Level", f"{level} · you, as {role_label(str(payload.get('role', '')))}"),
        ("Raised by", payload.get("raised_by_name") or payload.get("raised_by") or ""),
        ("Raised at", _when(payload.get("raised_at"), tz)),
    ]
    blocks = [Block("heading", f"Escalation {esc_id} from {site}"), Block("facts", [(k, v) for k, v in facts if v])]
    if payload.get("summary"):
        blocks.append(Block("quote", clip(str(payload["summary"]), BODY_CLIP)))
    if inferred and payload.get("inference_reason"):
        blocks.append(Block("note", f"Siteline's reading: {payload['inference_reason']}"))
    ladder = ladder_lines(payload.get("ladder") or [], tz, reader=str(payload.get("reader_id") or ""))
    if ladder:
        blocks += [Block("para", "The ladder so far:"), Block("items", ladder)]
    blocks.append(Block("para", deadline_line(payload)))
    if ack_url:
        blocks.append(Block("link", ("Acknowledge", ack_url)))
        blocks.append(
            Block(
                "note",
                "The link opens a page that asks you to confirm; nothing happens until you press its button. "
                "It works once, only for you, and until the escalation moves on to the next level.",
            )
        )
    return Mail(f"Escalation {esc_id} from {site}: please acknowledge", blocks)


def deadline_line(payload: Mapping[str, Any]) -> str:
    """ "Please acknowledge by Mon 9 Mar 14:00 (Europe/Paris) (within 4 h), or it goes to the CRA lead.\""""
    if not payload.get("ack_within_text"):
        return "You are the last level of this escalation: please take it on."
    tz = str(payload.get("reader_tz") or "UTC")
    nxt = payload.get("hands_on_to")
    then = f", or it goes to the {role_label(str(nxt))}" if nxt else ""
    by = _when(payload.get("ack_by"), tz)
    if by:
        return f"Please acknowledge by {by} (within {payload['ack_within_text']}){then}."
    return f"Please acknowledge within {payload['ack_within_text']}{then}."


def ladder_lines(ladder: Sequence[Mapping[str, Any]], tz: str, *, reader: str) -> list[str]:
    """One line per level: its roles, who was told when (the reader's time), and what comes next."""
    lines = []
    for level in ladder:
        roles = " and ".join(role_label(str(r)) for r in level.get("roles") or [])
        told = [
            f"{p.get('name')}{' (you)' if p.get('person_id') == reader else ''}, told {_when(p.get('told_at'), tz)}"
            for p in level.get("people") or []
        ]
        if told:
            lines.append(f"Level {level.get('level')} · {roles}: " + "; ".join(told))
        elif level.get("state") == "nobody":
            lines.append(f"Level {level.get('level')} · {roles}: nobody is registered for this role")
        else:
            lines.append(f"Level {level.get('level')} · {roles}: told if still unacknowledged")
    return lines


def escalation_update(payload: Mapping[str, Any], _ack_url: str | None = None) -> Mail:
    """A status step (acknowledged, resolved, handed on): the engine's own words."""
    esc = payload.get("escalation") or {}
    esc_id = str(esc.get("id", ""))
    status = str(esc.get("status") or "updated")
    text = str(payload.get("text") or f"Escalation {esc_id}: {status}")
    head, _, rest = text.partition("\n")
    blocks = [Block("heading", f"Escalation {esc_id}: {status}"), Block("para", head)]
    lines = [line.strip() for line in rest.splitlines() if line.strip()]
    if lines:
        blocks.append(Block("items", lines))
    where = [("Site", _site(payload)), ("Study", payload.get("study", ""))]
    if any(v for _, v in where):
        blocks.append(Block("facts", [(k, v) for k, v in where if v]))
    return Mail(f"Escalation {esc_id}: {status}", blocks)


# -- sponsor updates --------------------------------------------------------------------------


def _item_blocks(payload: Mapping[str, Any], item: Mapping[str, Any]) -> list[Block]:
    d = (payload.get("details") or {}).get(str(item.get("id"))) or {}
    title = str(d.get("subject") or item.get("subject") or item.get("id") or "update")
    facts = [("Study", d.get("study")), ("From", d.get("from")), ("Due", d.get("due") or item.get("due"))]
    blocks = [Block("heading", clip(title, 300)), Block("facts", [(k, v) for k, v in facts if v])]
    body = d.get("body") or item.get("summary") or item.get("body")
    if body:
        blocks.append(Block("quote", clip(str(body), BODY_CLIP)))
    if item.get("merged"):
        blocks.append(Block("note", "Also covers repeated message(s): " + ", ".join(map(str, item["merged"]))))
    if item.get("reason"):
        blocks.append(Block("note", f"Sent at once, not in the digest: {item['reason']}"))
    return blocks


def _items(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [i for i in payload.get("items") or [] if isinstance(i, Mapping)]


def urgent_update(payload: Mapping[str, Any], _ack_url: str | None = None) -> Mail:
    """An urgent sponsor update for a site, sent to its staff by e-mail when the site has no chat."""
    items = _items(payload)
    site = _site(payload)
    blocks = [Block("para", "Urgent sponsor update" + (f" for {site}" if site else ""))]
    for item in items[:20]:
        blocks += _item_blocks(payload, item)
    if payload.get("text"):
        blocks.append(Block("note", str(payload["text"])))
    first = items[0] if items else {}
    title = ((payload.get("details") or {}).get(str(first.get("id"))) or {}).get("subject") or "sponsor update"
    return Mail(f"URGENT: {title}" + (f" ({site})" if site else ""), blocks)


def digest(payload: Mapping[str, Any], _ack_url: str | None = None) -> Mail:
    items = _items(payload)
    site = _site(payload)
    count = f"{len(items)} update{'s' if len(items) != 1 else ''}"
    blocks = [Block("para", f"Your digest of sponsor updates{f' for {site}' if site else ''} ({count})")]
    for item in items:
        blocks += _item_blocks(payload, item)
    return Mail(f"Digest of sponsor updates{f' for {site}' if site else ''} ({count})", blocks)


# -- everything else ---------------------------------------------------------------------------


def plain(payload: Mapping[str, Any], _ack_url: str | None = None) -> Mail:
    """An answer, a hand-off, a question: the payload's own text."""
    text = str(payload.get("text") or "Update from Siteline")
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return Mail(f"Siteline: {clip(text.splitlines()[0] if text else '', 80)}", [Block("para", p) for p in paragraphs])


RENDERERS: dict[str, Callable[[Mapping[str, Any], str | None], Mail]] = {
    "escalation": escalation_notice,
    "escalation_update": escalation_update,
    "immediate": urgent_update,
    "digest": digest,
}


def render(kind: str, payload: Mapping[str, Any], *, ack_url: str | None = None) -> EmailMessage:
    """The message (Subject, text and HTML alternatives); the sender adds From, To, Date and Message-ID."""
    mail = RENDERERS.get(kind, plain)(payload, ack_url)
    msg = EmailMessage()
    msg["Subject"] = clip(mail.subject, SUBJECT_MAX)
    msg.set_content(to_text(mail.blocks))
    msg.add_alternative(to_html(mail), subtype="html")
    return msg


def to_text(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            out.append(f"{b.value}\n{'=' * min(len(str(b.value)), 72)}")
        elif b.kind == "facts":
            out.append("\n".join(f"{k}: {v}" for k, v in b.value))
        elif b.kind == "quote":
            out.append("\n".join(f"> {line}" for line in str(b.value).splitlines() or [""]))
        elif b.kind == "items":
            out.append("\n".join(f"- {x}" for x in b.value))
        elif b.kind == "link":
            label, url = b.value
            out.append(f"{label}: {url}")
        else:
            out.append(str(b.value))
    return "\n\n".join(out) + "\n\n-- \nSiteline\n"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def to_html(mail: Mail) -> str:
    parts: list[str] = []
    for b in mail.blocks:
        if b.kind == "heading":
            parts.append(f"<h2>{_e(b.value)}</h2>")
        elif b.kind == "facts":
            rows = "".join(f"<tr><th align='left'>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in b.value)
            parts.append(f"<table cellpadding='4'>{rows}</table>")
        elif b.kind == "quote":
            parts.append(f"<blockquote>{_e(b.value)}</blockquote>")
        elif b.kind == "items":
            parts.append("<ul>" + "".join(f"<li>{_e(x)}</li>" for x in b.value) + "</ul>")
        elif b.kind == "link":
            label, url = b.value
            parts.append(
                f"<p><a href='{_e(url)}' style='background:#1a7f37;color:#fff;padding:8px 16px;"
                f"text-decoration:none;border-radius:4px'>{_e(label)}</a></p>"
            )
        elif b.kind == "note":
            parts.append(f"<p style='color:#555;font-size:small'>{_e(b.value)}</p>")
        else:
            parts.append(f"<p>{_e(b.value)}</p>")
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(mail.subject)}</title></head>"
        f"<body style='font-family:sans-serif'>{''.join(parts)}</body></html>"
    )
