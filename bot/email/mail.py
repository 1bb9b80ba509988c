"""An e-mail said once as blocks, written twice: the plain-text and HTML alternatives of one
`EmailMessage`, so the two can never say different things. Every value is escaped in HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

SUBJECT_MAX = 120


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
    """One line of at most `limit` characters (whitespace folded)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def message(mail: Mail) -> EmailMessage:
    """Subject, text and HTML alternatives; the sender adds From, To, Date and Message-ID."""
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
