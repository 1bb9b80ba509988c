"""E-mails for what the engines send: the same facts as the Slack and Teams messages.

Each kind is said as a short list of blocks (a heading, facts, a quote, a list, a link); `mail.py`
writes the plain-text and HTML alternatives from them. Payload text is untrusted (a site's summary,
a sponsor's update): the HTML escapes every value, and no link is made from payload text. Pure
functions of the payload, plus the acknowledge link the sender issued for this reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from typing import Any

from assistant.outbound import deadline_text
from bot.email.mail import Block, Mail, clip, message
from core.clock import parse_instant
from escalation.messages import category_text, local, role_label

BODY_CLIP = 2800


def _when(iso_text: Any, tz: str) -> str:
    return f"{local(parse_instant(str(iso_text)), tz)} ({tz})" if iso_text else ""


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
    blocks.append(Block("para", str(payload.get("deadline_text") or deadline_text(payload))))
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


# -- Ask my CRA --------------------------------------------------------------------------------

NO_REPLIES = "Replies to this e-mail are not read: answer in Siteline's chat (Slack or Teams)."


def _source(c: Mapping[str, Any]) -> str:
    title = str(c.get("title") or c.get("doc") or "document")
    parts = [title + (f" v{c['version']}" if c.get("version") else "")]
    parts += [str(c["section"])] if c.get("section") else []
    parts += [f"p. {c['page']}"] if c.get("page") else []
    return ", ".join(parts)


def open_question(payload: Mapping[str, Any], _ack_url: str | None = None) -> Mail:
    """A site's question handed to its CRA: who asks, where, what, and what Siteline found."""
    who = payload.get("asked_by_name") or payload.get("asked_by") or "a site"
    site = _site(payload)
    blocks = [
        Block("heading", f"Question from {who}"),
        Block("facts", [(k, v) for k, v in (("Site", site), ("Study", payload.get("study"))) if v]),
        Block("quote", clip(str(payload.get("question") or ""), BODY_CLIP)),
    ]
    if payload.get("bot_answer") and not payload.get("abstained"):
        blocks += [Block("para", "Siteline's answer from the documents:"), Block("quote", str(payload["bot_answer"]))]
    else:
        blocks.append(Block("para", "Siteline did not find the answer in the study documents."))
    sources = [_source(c) for c in payload.get("citations") or [] if isinstance(c, Mapping)]
    if sources:
        blocks += [Block("para", "Sources:"), Block("items", sources)]
    blocks.append(Block("note", NO_REPLIES))
    return Mail(f"Question from {who}" + (f" ({site})" if site else ""), blocks)


def cra_answer(payload: Mapping[str, Any], _ack_url: str | None = None) -> Mail:
    """The CRA's answer to a question the reader asked."""
    named = payload.get("cra_name") or payload.get("cra")
    cra = str(named or "your CRA")
    title = f"Answer from your CRA, {cra}" if named else "Answer from your CRA"
    blocks = [
        Block("heading", title),
        Block("para", "You asked:"),
        Block("quote", clip(str(payload.get("question") or ""), BODY_CLIP)),
        Block("para", f"{cra} answered:"),
        Block("quote", str(payload.get("answer") or "")),
    ]
    return Mail(title, blocks)


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
    "open_question": open_question,
    "cra_answer": cra_answer,
}


def render(kind: str, payload: Mapping[str, Any], *, ack_url: str | None = None) -> EmailMessage:
    """The message for an outbox row of `kind` (with this reader's acknowledge link, for a notice)."""
    return message(RENDERERS.get(kind, plain)(payload, ack_url))
