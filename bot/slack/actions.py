"""Buttons and the CRA's answer form: Helpful / Not helpful / Ask my CRA / Answer (modal)."""

from __future__ import annotations

import json
from typing import Any, Literal

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from assistant.service import ChatUser
from bot.slack.blocks import (
    ANSWER_INPUT,
    ANSWER_INPUT_BLOCK,
    ANSWER_QUESTION,
    ASK_CRA,
    CRA_ANSWER_VIEW,
    HELPFUL,
    NOT_HELPFUL,
    answer_modal,
    answered_blocks,
    any_of,
    apology,
)
from bot.slack.failures import guarded, quietly
from bot.slack.runtime import SlackRuntime

SAVE_FAILED = "Sorry, I couldn't save your answer just now. Please try again in a minute."


def _user(body: dict[str, Any]) -> ChatUser:
    return ChatUser("slack", str(body["user"]["id"]))


def _tell(body: dict[str, Any], respond: Respond, client: WebClient, text: str) -> None:
    """A private note to the clicking user: through the response URL, or a DM where there is none (App Home)."""
    if body.get("response_url"):
        respond(text=text, response_type="ephemeral", replace_original=False)
    else:
        channel = client.conversations_open(users=body["user"]["id"])["channel"]["id"]
        client.chat_postMessage(channel=channel, text=text)


def _thread_of(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The channel and thread of the clicked message (None for ephemeral messages, which have no thread)."""
    container, message = body.get("container") or {}, body.get("message") or {}
    if container.get("is_ephemeral") or not message:
        return None, None
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    return channel, message.get("thread_ts") or message.get("ts")


def register(app: App, rt: SlackRuntime) -> None:
    def feedback(value: Literal["helpful", "not_helpful"]) -> Any:
        def on_click(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
        ) -> None:
            ack()
            ref = body.get("trigger_id")
            with guarded(f"feedback {value}", ref, lambda: _tell(body, respond, client, apology(ref))):
                outcome = rt.assistant.feedback(int(action["value"]), value, _user(body), rt.now())
                _tell(body, respond, client, outcome.message)

        return on_click

    app.action(HELPFUL)(feedback("helpful"))
    app.action(NOT_HELPFUL)(feedback("not_helpful"))

    @app.action(ASK_CRA)
    def on_ask_cra(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        ref = body.get("trigger_id")
        with guarded("ask my CRA", ref, lambda: _tell(body, respond, client, apology(ref))):
            outcome = rt.assistant.ask_cra(int(action["value"]), _user(body), rt.now())
            channel, thread = _thread_of(body)
            if outcome.ok and outcome.deliveries and channel:
                # A new hand-off is news for everyone in the thread, not only the clicker.
                client.chat_postMessage(
                    channel=channel, thread_ts=thread, text=f"<@{body['user']['id']}> {outcome.message}"
                )
            else:
                _tell(body, respond, client, outcome.message)
            rt.deliver(outcome.deliveries)

    @app.action(any_of(ANSWER_QUESTION))
    def on_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        ack()
        ref = body.get("trigger_id")
        with guarded("open answer form", ref, lambda: _tell(body, respond, client, apology(ref))):
            question = rt.assistant.open_question(int(action["value"]), _user(body))
            if question is None:
                _tell(body, respond, client, "Only the CRA(s) of this site and study can answer this question.")
                return
            if question.status == "answered":
                by = rt.assistant.display_name(question.answered_by or "")
                _tell(body, respond, client, f"{by} already answered this question.")
                return
            container = body.get("container") or {}
            meta = {"q": question.id, "channel": container.get("channel_id"), "ts": container.get("message_ts")}
            client.views_open(trigger_id=body["trigger_id"], view=answer_modal(question, json.dumps(meta)))

    @app.view(CRA_ANSWER_VIEW)
    def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        acked = False

        def apologize() -> None:
            if not acked:
                ack(response_action="errors", errors={ANSWER_INPUT_BLOCK: SAVE_FAILED})

        with guarded("CRA answer", body.get("trigger_id") or view.get("id"), apologize):
            meta = json.loads(view.get("private_metadata") or "{}")
            text = view["state"]["values"][ANSWER_INPUT_BLOCK][ANSWER_INPUT].get("value") or ""
            outcome = rt.assistant.answer_open_question(int(meta["q"]), _user(body), text, rt.now())
            if not outcome.ok:
                ack(response_action="errors", errors={ANSWER_INPUT_BLOCK: outcome.message})
                return
            ack()
            acked = True
            rt.deliver(outcome.deliveries)
            if meta.get("channel") and meta.get("ts"):
                question = rt.assistant.open_question(int(meta["q"]), _user(body))
                shown = question.question if question else ""
                by = rt.assistant.display_name(question.answered_by or "") if question else "you"
                quietly(
                    "chat.update",
                    lambda: client.chat_update(
                        channel=meta["channel"],
                        ts=meta["ts"],
                        text="Answered",
                        blocks=answered_blocks(shown, by, outcome.message),
                    ),
                )
