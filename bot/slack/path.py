"""`/siteline escalation-path [site] [category] [severity]`: the ladder a site's issue would climb,
shown before anyone needs it. Who may see which ladder is the assistant's; this renders it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.blocks import Block, apology, context, say
from bot.slack.escalation_blocks import ladder_blocks
from bot.slack.failures import guarded
from escalation.messages import category_text

if TYPE_CHECKING:
    from bot.slack.commands import Invocation


def command(inv: Invocation) -> None:
    inv.ack()

    def reply(text: str, blocks: list[Block] | None = None) -> None:
        inv.respond(text=text, blocks=blocks, response_type="ephemeral")

    with guarded("slash escalation-path", inv.ref, lambda: reply(apology(inv.ref))):
        found = inv.rt.assistant.escalations.path(
            inv.user, inv.args.split(), conversation_id=str(inv.command.get("channel_id") or ""), now=inv.rt.now()
        )
        if not found.ok:
            reply(say(found.message))
            return
        blocks: list[Block] = []
        for ladder in found.ladders:
            blocks += ladder_blocks(ladder)
        if not found.category:
            blocks.append(context("Add a category to see its own ladder, e.g. `/siteline escalation-path safety`."))
        label = category_text(found.category) if found.category else "any issue"
        reply(f"Escalation path for {label}", blocks[1:51])  # the first block is a divider
