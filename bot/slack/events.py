"""Slack events in: mentions, DMs and the App Home tab, translated at the edge into the assistant's
platform-neutral messages (cf. bolt's `to_bolt_request`); the answer goes back in the question's thread."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from assistant.types import ChatUser, InboundMessage
from bot.slack.answering import answer_in_thread
from bot.slack.failures import guarded
from bot.slack.home import home_view
from bot.slack.runtime import SlackRuntime

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


def register(app: App, rt: SlackRuntime) -> None:
    @app.event("app_mention")
    def on_mention(body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        msg = from_event(event, event_id=body.get("event_id"), bot_user_id=context.bot_user_id)
        answer_in_thread(rt, client, msg, question_ts=str(event["ts"]))

    @app.event("message")
    def on_message(body: dict[str, Any], event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
        """DMs to the bot; channel messages arrive as app_mention, edits and joins are ignored."""
        if event.get("channel_type") != "im" or not is_user_message(event):
            return
        msg = from_event(event, event_id=body.get("event_id"), bot_user_id=context.bot_user_id)
        answer_in_thread(rt, client, msg, question_ts=str(event["ts"]))

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user = str(event["user"])

        def fallback() -> None:
            client.views_publish(user_id=user, view={"type": "home", "blocks": [_sorry_block()]})

        with guarded("app home", user, fallback):
            profile = rt.assistant.profile(ChatUser("slack", user))
            client.views_publish(user_id=user, view=home_view(profile))


def _sorry_block() -> dict[str, Any]:
    text = "Sorry, I couldn't load your Siteline home just now. Please reopen this tab in a minute."
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
