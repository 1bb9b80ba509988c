"""Card buttons: Helpful / Not helpful / Ask my CRA / Send answer (CRA) / Acknowledge / Resolve.

One table of verbs, each a function of (runtime, clicker, data) → Result; `Action.Execute`
invokes get the result as the invoke response (a message, or a card replacing the clicked
one), `Action.Submit`-style message-with-value gets it as a reply. Outbox rows an action
queued (the CRA's card, the answer back in the thread, escalation updates) are sent right
after the click is answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from microsoft_agents.activity import AdaptiveCardInvokeResponse, ContentTypes
from microsoft_agents.hosting.core import TurnContext

from assistant.service import ChatUser
from bot.teams import cards
from bot.teams.answering import send
from bot.teams.failures import guarded
from bot.teams.runtime import TeamsRuntime
from bot.teams.translate import user_ids
from bot.teams.update_cards import escalation_status_card

STALE = "That button no longer works. Please ask your question again."


@dataclass(frozen=True)
class Result:
    message: str | None = None
    card: cards.Card | None = None  # replaces the clicked card (Action.Execute) / is sent (Action.Submit)
    thread_note: str | None = None  # posted in the conversation for everyone (a new hand-off)
    deliveries: tuple[str, ...] = field(default_factory=tuple)


Verb = Callable[[TeamsRuntime, ChatUser, Mapping[str, Any]], Result]


def _int(data: Mapping[str, Any], key: str) -> int | None:
    try:
        return int(str(data.get(key)))
    except (TypeError, ValueError):
        return None


def feedback(value: str) -> Verb:
    def run(rt: TeamsRuntime, user: ChatUser, data: Mapping[str, Any]) -> Result:
        answer_id = _int(data, "answer_id")
        if answer_id is None:
            return Result(STALE)
        outcome = rt.assistant.feedback(answer_id, value, user, rt.now())  # type: ignore[arg-type]
        return Result(outcome.message)

    return run


def ask_cra(rt: TeamsRuntime, user: ChatUser, data: Mapping[str, Any]) -> Result:
    answer_id = _int(data, "answer_id")
    if answer_id is None:
        return Result(STALE)
    outcome = rt.assistant.ask_cra(answer_id, user, rt.now())
    news = outcome.message if outcome.ok and outcome.deliveries else None  # a new hand-off is news for the thread
    return Result(outcome.message, thread_note=news, deliveries=outcome.deliveries)


def answer_question(rt: TeamsRuntime, user: ChatUser, data: Mapping[str, Any]) -> Result:
    question_id = _int(data, "question_id")
    if question_id is None:
        return Result(STALE)
    text = str(data.get(cards.ANSWER_INPUT) or "")
    outcome = rt.assistant.answer_open_question(question_id, user, text, rt.now())
    if not outcome.ok:
        return Result(outcome.message)
    question = rt.assistant.open_question(question_id, user)
    by = rt.assistant.display_name(question.answered_by or "") if question else "you"
    shown = question.question if question else ""
    return Result(outcome.message, card=cards.answered_card(shown, by, outcome.message), deliveries=outcome.deliveries)


ICONS = {"acknowledged": "✅", "already_acknowledged": "✅", "resolved": "🏁", "already_resolved": "🏁"}


def escalation(resolve: bool) -> Verb:
    def run(rt: TeamsRuntime, user: ChatUser, data: Mapping[str, Any]) -> Result:
        esc_id = str(data.get("escalation_id") or "")
        if not esc_id:
            return Result(STALE)
        acted = rt.assistant.escalations.act(user, esc_id, resolve=resolve, now=rt.now())
        if not acted.ok:
            return Result(acted.message)
        text = f"{ICONS[acted.outcome]} {acted.message}"
        card = escalation_status_card(esc_id, text, can_resolve=acted.still_open)
        return Result(text, card=card, deliveries=acted.deliveries)

    return run


VERBS: dict[str, Verb] = {
    cards.HELPFUL: feedback("helpful"),
    cards.NOT_HELPFUL: feedback("not_helpful"),
    cards.ASK_CRA: ask_cra,
    cards.ANSWER_QUESTION: answer_question,
    cards.ESC_ACK: escalation(resolve=False),
    cards.ESC_RESOLVE: escalation(resolve=True),
}


async def _perform(rt: TeamsRuntime, context: TurnContext, verb: str, data: Mapping[str, Any]) -> Result:
    teams_id, aad = user_ids(context.activity)
    key = await rt.run(lambda: rt.user_key(teams_id, aad))
    result = await rt.run(lambda: VERBS[verb](rt, ChatUser("teams", key), data))
    if result.thread_note:
        await send(context, cards.notice(result.thread_note))
    rt.deliver_soon(result.deliveries)
    return result


def on_execute(rt: TeamsRuntime, verb: str) -> Callable[..., Awaitable[AdaptiveCardInvokeResponse]]:
    """An `adaptiveCard/action` invoke: answered with a replacement card or a message."""

    async def handler(context: TurnContext, _state: Any, data: Mapping[str, Any]) -> AdaptiveCardInvokeResponse:
        reply = AdaptiveCardInvokeResponse(
            status_code=HTTPStatus.OK, type=ContentTypes.message, value=cards.apology(context.activity.id)
        )

        async def apologize() -> None:
            return None  # the invoke response below carries the apology

        async with guarded(f"card action {verb}", context.activity.id, apologize):
            result = await _perform(rt, context, verb, data or {})
            if result.card is not None:
                return AdaptiveCardInvokeResponse(
                    status_code=HTTPStatus.OK, type=ContentTypes.adaptive_card, value=result.card
                )
            reply = AdaptiveCardInvokeResponse(
                status_code=HTTPStatus.OK, type=ContentTypes.message, value=result.message or ""
            )
        return reply

    return handler


def on_submit(rt: TeamsRuntime, verb: str) -> Callable[..., Awaitable[None]]:
    """A message carrying the card's data (`Action.Submit` clients): the result is a reply."""

    async def handler(context: TurnContext, _state: Any, data: Mapping[str, Any]) -> None:
        async def apologize() -> None:
            await send(context, cards.notice(cards.apology(context.activity.id)))

        async with guarded(f"card submit {verb}", context.activity.id, apologize):
            result = await _perform(rt, context, verb, data or {})
            if result.card is not None:
                await send(context, cards.message(result.card, result.message or "Siteline"))
            elif result.message and result.message != result.thread_note:
                await send(context, cards.notice(result.message))

    return handler
