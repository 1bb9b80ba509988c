"""The Agents SDK application: routes for questions, card actions, installs, and everything else.

- One `ConnectionManager` (anonymous or MSAL, see auth.py) is given to both the `CloudAdapter`
  and the `AgentApplication`, as the SDK expects.
- Before every turn the conversation reference is remembered (ids and serviceUrl only), so
  proactive messages can reach the user or channel later.
- Card clicks: `Action.Execute` invokes and `Action.Submit` message-with-value, one table of verbs.
- A catch-all route of last rank takes every other activity, so the SDK never logs an unrouted
  activity (its log line would quote the message text).
- The adapter's default turn-error handler would send the exception text to the user; ours logs
  the exception type once and sends the apology.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from microsoft_agents.activity import Activity, ActivityTypes, InvokeResponse
from microsoft_agents.hosting.core import AgentApplication, MemoryStorage, RouteRank, TurnContext, TurnState
from microsoft_agents.hosting.fastapi import CloudAdapter

from bot.teams import actions, answering, cards, references
from bot.teams.auth import TeamsAuth
from bot.teams.failures import describe, log_failure
from bot.teams.runtime import TeamsRuntime
from bot.teams.translate import is_from_a_bot
from core.db import transaction

log = logging.getLogger("siteline.bot.teams")


def build_agent(rt: TeamsRuntime, auth: TeamsAuth) -> tuple[AgentApplication[TurnState], CloudAdapter]:
    adapter = CloudAdapter(connection_manager=auth.connections)
    adapter.on_turn_error = _turn_error
    app = AgentApplication[TurnState](
        storage=MemoryStorage(),
        connection_manager=auth.connections,
        start_typing_timer=False,  # one typing indicator for questions only (answering.py)
        remove_recipient_mention=False,  # translate.py removes exactly the bot's mention
    )

    async def remember(context: TurnContext, _state: TurnState) -> bool:
        activity = context.activity
        try:
            await rt.run(lambda: _remember(rt, activity))
        except Exception as exc:  # a lost reference only delays proactive messages; never block the turn
            log.warning("teams: could not store the conversation reference: %s", describe(exc))
        return True

    app.before_turn(remember)

    for verb in actions.VERBS:
        app.adaptive_card.action_execute(verb)(actions.on_execute(rt, verb))
        app.adaptive_card.action_submit(verb, rank=RouteRank.FIRST)(actions.on_submit(rt, verb))

    def is_question(context: TurnContext) -> bool:
        a = context.activity
        return a.type == ActivityTypes.message and a.value is None and not is_from_a_bot(a)

    async def on_question(context: TurnContext, _state: TurnState) -> None:
        await answering.answer(rt, context)

    app.add_route(is_question, on_question)

    async def on_members_added(context: TurnContext, _state: TurnState) -> None:
        await answering.welcome(rt, context)

    app.conversation_update("membersAdded")(on_members_added)

    async def ignore(context: TurnContext, _state: TurnState) -> None:
        log.debug("teams: %s activity ignored", context.activity.type)

    app.add_route(lambda _context: True, ignore, rank=RouteRank.LAST)
    # Invoke routes are tried before all others whatever their rank: this one must select invokes only.
    app.add_route(
        lambda context: context.activity.type == ActivityTypes.invoke,
        _invoke_not_supported,
        is_invoke=True,
        rank=RouteRank.LAST,
    )
    return app, adapter


def _remember(rt: TeamsRuntime, activity: Activity) -> None:
    with transaction(rt.factory) as session:
        references.remember(session, activity, rt.now())


async def _invoke_not_supported(context: TurnContext, _state: TurnState) -> None:
    """Invokes we do not handle (e.g. a card action with an unknown verb) still get an answer."""
    body = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": actions.STALE}
    await context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=int(HTTPStatus.OK), body=body))
    )


async def _turn_error(context: TurnContext, error: Exception) -> None:
    log_failure("turn", context.activity.id if context.activity else None, error)
    try:
        await context.send_activity(cards.notice(cards.apology(context.activity.id if context.activity else None)))
    except Exception as again:
        log.error("teams turn: the apology could not be sent either: %s", describe(again))
