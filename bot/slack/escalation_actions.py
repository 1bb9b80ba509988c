"""*Acknowledge* and *Resolve* on an escalation DM: the assistant acts (the escalation engine decides
who may); this sends what it queued at once and rewrites the DM to say who did what and when, so
nobody presses a stale button. A refusal is told privately and changes nothing.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from assistant.types import ChatUser
from bot.slack.blocks import apology, say
from bot.slack.escalation_blocks import ACK, RESOLVE, acted_blocks
from bot.slack.failures import guarded, quietly
from bot.slack.runtime import SlackRuntime

ICONS = {"acknowledged": ":white_check_mark:", "already_acknowledged": ":white_check_mark:",
         "resolved": ":checkered_flag:", "already_resolved": ":checkered_flag:"}  # fmt: skip


def register(app: App, rt: SlackRuntime) -> None:
    def handler(resolve: bool) -> Any:
        def on_click(
            ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient
        ) -> None:
            ack()
            ref = body.get("trigger_id")

            def tell(text: str) -> None:
                respond(text=text, response_type="ephemeral", replace_original=False)

            with guarded("escalation resolve" if resolve else "escalation ack", ref, lambda: tell(apology(ref))):
                esc_id = str(action["value"])
                user = ChatUser("slack", str(body["user"]["id"]))
                acted = rt.assistant.escalations.act(user, esc_id, resolve=resolve, now=rt.now())
                if not acted.ok:
                    tell(say(acted.message))
                    return
                rt.deliver(acted.deliveries)
                text = f"{ICONS[acted.outcome]} {say(acted.message)}"
                container, message = body.get("container") or {}, body.get("message") or {}
                if container.get("channel_id") and container.get("message_ts") and message.get("blocks"):
                    blocks = acted_blocks(message["blocks"], text, esc_id=esc_id, still_open=acted.still_open)
                    quietly(
                        "chat.update (escalation DM)",
                        lambda: client.chat_update(
                            channel=container["channel_id"],
                            ts=container["message_ts"],
                            text=text,
                            blocks=blocks,
                        ),
                    )
                else:
                    tell(text)

        return on_click

    app.action(ACK)(handler(resolve=False))
    app.action(RESOLVE)(handler(resolve=True))
