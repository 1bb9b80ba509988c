"""Answer a question in Teams: claim the delivery, show typing, ask the assistant, reply with a card.

A channel @mention is answered in the thread of the question; a 1:1 message in the chat.
`help` and `questions` are answered here; `escalation-path`, `digest` and `escalate` are the
table in command_table.py (the app manifest lists them all). Whatever
happens the user sees an answer, a refusal or an apology, and a redelivered activity
(same id in the same conversation) is answered once.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from microsoft_agents.activity import Activity, ActivityTypes
from microsoft_agents.hosting.core import TurnContext

from assistant.scope import UNKNOWN_USER
from assistant.service import ChatUser
from bot.teams import cards, command_table
from bot.teams.commands import Invocation
from bot.teams.failures import describe, guarded
from bot.teams.runtime import TeamsRuntime
from bot.teams.translate import base_conversation, to_inbound, user_ids

log = logging.getLogger("siteline.bot.teams")

HELP = (
    "**Siteline** answers questions about your study documents, with the document, version, section and page.\n\n"
    "- Mention me in your site's channel, or write to me here in a 1:1 chat.\n"
    "- Under each answer: **Helpful**, **Not helpful**, and **Ask my CRA** to hand the question to your CRA.\n"
    "- Type **questions** to see open questions waiting for you or asked by you.\n"
    "- **escalation-path [site] [category] [severity]**: who an issue from your site reaches, and when.\n"
    "- **digest**: your site's digest times and quiet hours; site staff and CRAs change them with "
    "**digest [site] 08:30,16:00 quiet 19:00-07:00** (or **quiet off**).\n"
    "- **escalate <summary>** (site staff): raise an issue with the sponsor; I say who will see it and when.\n\n"
    "Please don't include patient identifiers; if you do, I remove them before anything is stored."
)
MAX_RETRY_WAIT_S = 10.0


async def send(context: TurnContext, activity: Activity) -> None:
    """Post a reply; a 429 or 5xx from the connector is retried once after Retry-After (bounded)."""
    try:
        await context.send_activity(activity)
    except aiohttp.ClientResponseError as exc:
        if exc.status != 429 and exc.status < 500:
            raise
        wait = _retry_after(exc)
        log.warning("teams reply got HTTP %s; retrying once in %.1fs", exc.status, wait)
        await asyncio.sleep(wait)
        await context.send_activity(activity)


def _retry_after(exc: aiohttp.ClientResponseError) -> float:
    try:
        value = float((exc.headers or {}).get("Retry-After", 1))
    except (TypeError, ValueError):
        value = 1.0
    return min(max(value, 0.0), MAX_RETRY_WAIT_S)


async def answer(rt: TeamsRuntime, context: TurnContext) -> None:
    """A message that is a question (or a command) to the bot."""
    activity = context.activity
    msg = None
    claimed = False

    async def apologize() -> None:
        await send(context, cards.notice(cards.apology(msg.event_id if msg else activity.id)))

    try:
        async with guarded("answer", activity.id, apologize):
            teams_id, aad = user_ids(activity)
            key = await rt.run(lambda: rt.user_key(teams_id, aad))
            msg = to_inbound(activity, user_key=key)
            assert msg.event_id is not None
            claimed = await rt.run(lambda: rt.assistant.claim_event("teams", msg.event_id or "", rt.now()))
            if not claimed:
                log.info("teams activity %s already handled: not answered again", msg.event_id)
                return
            await _typing(context)
            command = msg.text.strip().lower()
            if command in ("help", "/help", "?"):
                await send(context, cards.message(cards.card([cards.text_block(HELP)]), "Siteline help"))
            elif command in ("questions", "/questions"):
                await _questions(rt, context, ChatUser("teams", key))
            elif command in ("dashboard", "/dashboard"):
                if (activity.conversation.conversation_type or "personal") != "personal":
                    text = "Ask me for the dashboard link in a 1:1 chat: a sign-in link must not be posted here."
                else:
                    text = await rt.run(lambda: rt.assistant.dashboard_link(ChatUser("teams", key), rt.now()))
                await send(context, cards.message(cards.card([cards.text_block(text)]), "Siteline dashboard"))
            elif found := command_table.find(msg.text):
                run, args = found
                inv = Invocation(key, args, base_conversation(activity.conversation.id))
                outcome = await rt.run(lambda: run(rt, inv))
                await send(context, outcome.reply)
                rt.deliver_soon(outcome.deliveries)
            else:
                reply = await rt.run(lambda: rt.assistant.handle(msg, rt.now()))
                await send(context, cards.reply_activity(reply))
    finally:
        if claimed and msg is not None and msg.event_id:
            event_id = msg.event_id
            await rt.run(lambda: rt.assistant.finish_event("teams", event_id))


async def _typing(context: TurnContext) -> None:
    """Cosmetic: a failed typing indicator never stops the answer."""
    try:
        await context.send_activity(Activity(type=ActivityTypes.typing))
    except (aiohttp.ClientError, OSError) as exc:
        log.debug("teams typing indicator skipped: %s", describe(exc))


async def _questions(rt: TeamsRuntime, context: TurnContext, user: ChatUser) -> None:
    profile = await rt.run(lambda: rt.assistant.profile(user))
    if profile is None:
        await send(context, cards.notice(UNKNOWN_USER))
        return
    listed = list(profile.open_questions)
    card = cards.questions_card(listed, viewer=profile.person.person_id)
    await send(context, cards.message(card, f"Open questions: {len(listed)}"))


async def welcome(rt: TeamsRuntime, context: TurnContext) -> None:
    """The bot was added to a 1:1 chat, a team or a group chat: say what it does (once per install)."""
    activity = context.activity
    me = activity.recipient.id if activity.recipient else None
    if not me or not any(m.id == me for m in activity.members_added or []):
        return
    async with guarded("welcome", activity.id, _noop):
        await send(context, cards.message(cards.card([cards.text_block(HELP)]), "Welcome to Siteline"))


async def _noop() -> None:
    return None
