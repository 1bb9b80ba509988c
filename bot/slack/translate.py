"""Slack payloads in, platform-neutral messages out (the edge; cf. bolt's `to_bolt_request`)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from assistant.types import InboundMessage

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:here|channel|everyone)[^>]*>")


def clean_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack markup to plain text: drop the bot's mention (and any leading mention), keep link labels."""
    text = text or ""
    if bot_user_id:
        text = text.replace(f"<@{bot_user_id}>", " ")
    text = re.sub(r"^\s*(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>\s*)+", "", text)
    text = _SPECIAL.sub("", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _MENTION.sub(lambda m: f"@{m.group(1)}", text)
    return html.unescape(text).strip()


def is_direct(channel_id: str, channel_type: str | None = None) -> bool:
    return channel_type == "im" or channel_id.startswith("D")


def from_event(event: Mapping[str, Any], *, event_id: str | None, bot_user_id: str | None) -> InboundMessage:
    """An `app_mention` or DM `message` event; the answer goes in the thread of the question."""
    channel = str(event["channel"])
    return InboundMessage(
        platform="slack",
        user_id=str(event["user"]),
        conversation_id=channel,
        is_direct=is_direct(channel, event.get("channel_type")),
        text=clean_text(str(event.get("text", "")), bot_user_id),
        thread_ref=str(event.get("thread_ts") or event["ts"]),
        event_id=event_id,
    )


def from_command(command: Mapping[str, Any], text: str) -> InboundMessage:
    """`/siteline ask …`: scoped like the channel it was typed in; the answer is private to the asker."""
    channel = str(command["channel_id"])
    return InboundMessage(
        platform="slack",
        user_id=str(command["user_id"]),
        conversation_id=channel,
        is_direct=is_direct(channel, "im" if command.get("channel_name") == "directmessage" else None),
        text=clean_text(text),
        thread_ref=None,
        event_id=command.get("trigger_id"),
    )


def is_user_message(event: Mapping[str, Any]) -> bool:
    """A person's new message (not an edit, a join, or any bot's post)."""
    return bool(event.get("user")) and not event.get("bot_id") and event.get("subtype") in (None, "file_share")
