"""Block Kit for `/siteline escalate`: the form, with who will see the issue and when, and the outcome.

The form explains the path before anything is sent (sites hesitate to escalate when they cannot
see where an issue goes): roles, names, local times and time limits from `describe_path`, and
what changes if it is critical. Choosing a category or severity redraws the explanation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from assistant.scope import Where
from assistant.words import SUMMARY_MAX
from bot.slack.blocks import Block, clip, context, escape, section
from bot.slack.escalation_blocks import path_blocks
from escalation.messages import CATEGORY_LABELS, category_text

RAISE = "escalate_raise"
WHERE, CATEGORY, SEVERITY, SUMMARY = "e_where", "e_category", "e_severity", "e_summary"
AUTO = "auto"
SEVERITY_LABELS = (
    ("low", "Low: can wait, no impact yet"),
    ("medium", "Medium: needs an answer soon"),
    ("high", "High: blocking the site or patients' visits"),
    ("critical", "Critical: safety or the study at risk now"),
)


def _text(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(value, 75), "emoji": True}


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _text(label), "value": value}


def _select(block_id: str, label: str, options: list[dict[str, Any]], initial: str) -> Block:
    element: dict[str, Any] = {"type": "static_select", "action_id": block_id, "options": options}
    chosen = next((o for o in options if o["value"] == initial), None)
    if chosen:
        element["initial_option"] = chosen
    return {"type": "input", "block_id": block_id, "dispatch_action": True, "label": _text(label), "element": element}


def category_options() -> list[dict[str, Any]]:
    return [_option("Let Siteline decide from my text", AUTO)] + [_option(category_text(c), c) for c in CATEGORY_LABELS]


def severity_options() -> list[dict[str, Any]]:
    return [_option("Let Siteline decide from my text", AUTO)] + [_option(label, v) for v, label in SEVERITY_LABELS]


def explanation(category: str, severity: str) -> str:
    """What the path below assumes, in plain words."""
    reading = "you'll see its reading in your channel's thread"
    if category == AUTO and severity == AUTO:
        return f"Siteline will pick the category and severity from your summary ({reading}). Below: the usual path."
    if category == AUTO:
        return f"Siteline will pick the category from your summary ({reading}). Below: the usual path."
    if severity == AUTO:
        return f"Siteline will read the severity from your summary ({reading}). Below: the path at medium severity."
    return "This is the path your issue will take."


def raise_view(
    places: Sequence[Where],
    chosen: Where,
    category: str,
    severity: str,
    path: Mapping[str, Any],
    critical: Mapping[str, Any] | None,
    now: datetime | None = None,
    summary: str = "",
) -> Block:
    summary_el: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": SUMMARY,
        "multiline": True,
        "max_length": SUMMARY_MAX,
        "placeholder": _text("What happened, and what do you need? No patient identifiers, please."),
    }
    if summary:
        summary_el["initial_value"] = clip(summary, SUMMARY_MAX)
    site = chosen.site
    blocks: list[Block] = [
        section(
            "Raise an issue for your site. Someone on the sponsor side is asked to acknowledge it; if nobody does "
            "in time, it goes to the next level. Every step shows up in a thread in your site's channel."
        ),
        _select(WHERE, "Site and study", [_option(p.label, p.value) for p in places[:100]], chosen.value),
        _select(CATEGORY, "Category", category_options(), category),
        _select(SEVERITY, "Severity", severity_options(), severity),
        {"type": "input", "block_id": SUMMARY, "label": _text("Summary"), "element": summary_el},
        {"type": "divider"},
        section(f"*Who will see it, and when*\n{escape(explanation(category, severity))}"),
        *path_blocks(path, site_name=site.name or site.site_id, tz=site.tz, critical=critical, now=now),
    ]
    return {
        "type": "modal",
        "callback_id": RAISE,
        "title": _text("Raise an issue"),
        "submit": _text("Raise"),
        "close": _text("Cancel"),
        "blocks": blocks[:50],
    }


def raised_view(view: Mapping[str, Any], channel_id: str | None, notice: str | None, path_text: list[Block]) -> Block:
    """After the raise: the id, how Siteline filed it (and why), the path, and where updates appear."""
    filed = f"{category_text(view.get('category'), bool(view.get('inferred')))}, {escape(str(view.get('severity')))}"
    blocks: list[Block] = [section(f":white_check_mark: *Escalation {escape(str(view.get('id')))} raised* as {filed}.")]
    if view.get("inference_reason"):
        blocks.append(context(f"Siteline's reading: {escape(str(view['inference_reason']))}"))
    if notice:
        blocks.append(context(f":lock: {escape(notice)}"))
    blocks += path_text
    where = f"the thread in <#{channel_id}>" if channel_id else "your site's channel"
    blocks.append(section(f"Updates (acknowledged, handed on, resolved) will appear in {where}."))
    return {"type": "modal", "title": _text("Issue raised"), "close": _text("Close"), "blocks": blocks[:50]}


def message_view(title: str, text: str) -> Block:
    return {"type": "modal", "title": _text(title), "close": _text("Close"), "blocks": [section(text)]}
