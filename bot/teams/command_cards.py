"""Adaptive Cards for the typed commands: the escalation ladder, what was raised, digest settings.

Pure functions of the engines' platform-neutral payloads (`describe_path`, `to_view`, triage's
`Preferences`) plus the reader's zone, so the wording lives in one place and tests need no Teams.
The ladder says what Slack's says: each level's roles and names, when they are told (site time),
how long they have (after the site tier's factor), working hours, and what *critical* changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.ladder_text import CRITICAL_LABEL, NOBODY, ladder_notes, level_roles, level_timing
from bot.teams.cards import Card, Element, card, clip, subtle, text_block
from escalation.messages import category_text


def path_elements(
    path: Mapping[str, Any], *, site_name: str, tz: str, critical: Mapping[str, Any] | None, now: datetime
) -> list[Element]:
    """`describe_path` as a site reads it (one site and study)."""
    out: list[Element] = [
        text_block(f"**Who an issue from {site_name} on {path.get('study')} reaches**", size="Medium"),
        subtle(f"{category_text(path.get('category'))}, {path.get('severity')}"),
    ]
    if path.get("inference_reason"):
        out.append(subtle(f"Siteline's reading of your text: {path['inference_reason']}"))
    levels = list(path.get("levels") or [])
    for n, level in enumerate(levels[:12], start=1):
        head, when = _level_lines(level, tz, last=n == len(levels), now=now)
        out.append(text_block(head, spacing="Medium"))
        if when:
            out.append(subtle(when))
    notes = _notes(path, critical)
    if notes:
        out.append(text_block(" ".join(notes), isSubtle=True, size="Small", spacing="Medium"))
    return out


def _level_lines(level: Mapping[str, Any], tz: str, *, last: bool, now: datetime) -> tuple[str, str]:
    names = ", ".join(str(p.get("name")) for p in level.get("people") or []) or NOBODY
    return f"**Level {level.get('level')} · {level_roles(level)}:** {names}", level_timing(
        level, tz, last=last, now=now
    )


def _notes(path: Mapping[str, Any], critical: Mapping[str, Any] | None) -> list[str]:
    return [n.replace(CRITICAL_LABEL, f"**{CRITICAL_LABEL}**", 1) for n in ladder_notes(path, critical)]


def ladders_card(ladders: list[list[Element]], hint: str | None) -> Card:
    body: list[Element] = []
    for n, elements in enumerate(ladders):
        if n:
            elements = [{"type": "Container", "separator": True, "spacing": "Large", "items": elements}]
        body += elements
    if hint:
        body.append(subtle(hint))
    return card(body)


def raised_card(view: Mapping[str, Any], *, site_name: str, notice: str | None, path: list[Element]) -> Card:
    """What was raised (id, category and severity, inferred or not) and who will see it when."""
    how = " (inferred from your text)" if view.get("inferred") else ""
    body: list[Element] = [
        text_block(f"📣 **Escalation raised for {site_name} · {view.get('study')}** ({view.get('id')})", size="Medium"),
        text_block(clip(str(view.get("summary") or ""), 1500), style="emphasis"),
        subtle(f"{category_text(view.get('category'))}, {view.get('severity')}{how}."),
    ]
    if notice:
        body.append(subtle(f"🔒 {notice}"))
    body.append({"type": "Container", "separator": True, "spacing": "Medium", "items": path})
    body.append(subtle("Your site's channel gets the updates; each person above gets a card to acknowledge it."))
    return card(body)
