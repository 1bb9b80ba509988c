"""Events API listeners: mentions, DMs and the App Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from assistant.service import ChatUser
from bot.slack.answering import answer_in_thread
from bot.slack.failures import guarded
from bot.slack.home import home_view
from bot.slack.runtime import SlackRuntime
from bot.slack.translate import from_event, is_user_message


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
