"""Answer a question in Slack: show that we are working, ask the assistant, reply in the thread.

Mentions and DMs are answered in the thread of the question with 👀 while working and ✅ when
done; `/siteline ask` is answered privately through the command's response URL. Whatever
happens, the user sees an answer, a refusal or an apology.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient

from assistant.types import InboundMessage, Reply
from bot.slack.blocks import answer_blocks, apology, notice_blocks, reply_text
from bot.slack.failures import guarded, log, quietly
from bot.slack.runtime import SlackRuntime

WORKING, DONE = "eyes", "white_check_mark"


def reply_blocks(reply: Reply) -> list[dict[str, Any]]:
    return answer_blocks(reply) if reply.is_answer else notice_blocks(reply.text, reply.notice)


def answer_in_thread(rt: SlackRuntime, client: WebClient, msg: InboundMessage, *, question_ts: str) -> None:
    """A mention or DM: react 👀, answer in the question's thread, swap 👀 for ✅ (or apologize)."""
    channel, thread = msg.conversation_id, msg.thread_ref

    def apologize() -> None:
        quietly(
            "reactions.remove", lambda: client.reactions_remove(channel=channel, timestamp=question_ts, name=WORKING)
        )
        client.chat_postMessage(channel=channel, thread_ts=thread, text=apology(msg.event_id))

    try:
        with guarded("answer", msg.event_id, apologize):
            quietly("reactions.add", lambda: client.reactions_add(channel=channel, timestamp=question_ts, name=WORKING))
            reply = rt.assistant.handle(msg, rt.now())
            client.chat_postMessage(
                channel=channel,
                thread_ts=thread,
                text=reply_text(reply),
                blocks=reply_blocks(reply),
                unfurl_links=False,
            )
            quietly(
                "reactions.remove",
                lambda: client.reactions_remove(channel=channel, timestamp=question_ts, name=WORKING),
            )
            if reply.is_answer:
                quietly(
                    "reactions.add", lambda: client.reactions_add(channel=channel, timestamp=question_ts, name=DONE)
                )
    finally:
        _finish(rt, msg.event_id)


def answer_privately(rt: SlackRuntime, respond: Callable[..., Any], msg: InboundMessage) -> None:
    """`/siteline ask`: the command was acked with a 'looking it up' note; the answer follows, only for the asker."""

    def apologize() -> None:
        respond(text=apology(msg.event_id), response_type="ephemeral", replace_original=False)

    with guarded("slash ask", msg.event_id, apologize):
        reply = rt.assistant.handle(msg, rt.now())
        respond(text=reply_text(reply), blocks=reply_blocks(reply), response_type="ephemeral", replace_original=False)


def _finish(rt: SlackRuntime, event_id: str | None) -> None:
    """Mark the delivery handled, so a late retry does not answer again (an apology counts as handled)."""
    if not event_id:
        return
    try:
        rt.assistant.finish_event("slack", event_id)
    except Exception as exc:  # the answer is out; a reclaim after RECLAIM_AFTER is the worst case
        log.warning("slack event %s could not be marked handled: %s", event_id, type(exc).__name__)
