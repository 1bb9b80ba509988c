"""`escalate <summary>` in Teams: site staff raise an issue; the reply says what was raised and who
will see it when.

As in Slack, the summary goes through the assistant's PHI guard first (nothing with identifiers
is stored or sent), escalation.service.raise_escalation files it with category and severity
inferred from the text, and what the engine queued (the site channel's "Escalation raised",
the level-1 cards with Acknowledge and Resolve) is sent right away, through the same path as
Ask my CRA's hand-off. In a site's channel the issue is raised for that site; a person on
several sites or studies may start with the site id or study (`escalate S03 …`).
"""

from __future__ import annotations

from assistant.scope import UNKNOWN_USER
from bot.command_args import SITE_ROLES, SUMMARY_MAX, SUMMARY_MIN, Where, raise_places
from bot.teams import cards
from bot.teams.command_cards import raised_card
from bot.teams.commands import Invocation, Outcome, ladder, lookup, say
from bot.teams.runtime import TeamsRuntime
from core.db import transaction
from escalation import service
from escalation.deliveries import due_now

USAGE = "Say in a sentence what happened and what you need: **escalate <summary>**."
NOT_SITE = (
    "**escalate** is how site staff raise an issue with the sponsor. As part of the sponsor team you'll get "
    "escalations as cards in your 1:1 chat; **escalation-path S01** shows the ladder a site's issue climbs."
)
NO_PLACE = (
    "You're not listed on a site and study yet, so I can't raise an issue for you. Please ask your Siteline admin."
)


def _choose(places: list[Where], words: list[str], here_id: str | None) -> tuple[Where, list[str]]:
    """The place named by the first word(s) (site id and/or study), else this channel's site, else the first."""
    chosen = [p for p in places if here_id is not None and p.site.site_id == here_id] or places
    rest = list(words)
    for _ in range(2):
        if not rest:
            break
        w = rest[0].lower()
        narrowed = [p for p in chosen if w in (p.site.site_id.lower(), p.study.lower())]
        if not narrowed and any(w in (p.site.site_id.lower(), p.study.lower()) for p in places):
            narrowed = [p for p in places if w in (p.site.site_id.lower(), p.study.lower())]
        if not narrowed:
            break
        chosen, rest = narrowed, rest[1:]
    return chosen[0], rest


def queued_now(rt: TeamsRuntime, esc_id: str) -> tuple[str, ...]:
    with transaction(rt.factory) as session:
        return due_now(session, esc_id, rt.now())


def escalate(rt: TeamsRuntime, inv: Invocation) -> Outcome:
    person, here = lookup(rt, inv)
    if person is None:
        return say(UNKNOWN_USER)
    if person.role not in SITE_ROLES:
        return say(NOT_SITE)
    with transaction(rt.factory) as session:
        places = raise_places(session, person)
    if not places:
        return say(NO_PLACE)
    where, words = _choose(places, inv.args.split(), here.site_id if here else None)
    text = " ".join(words)
    if len(text) < SUMMARY_MIN:
        return say(USAGE)
    if len(text) > SUMMARY_MAX:
        return say(f"That is {len(text)} characters; please keep the summary under {SUMMARY_MAX}.")
    redaction = rt.assistant.guard.redact(text)
    now = rt.now()
    try:
        with transaction(rt.factory) as session:
            esc = service.raise_escalation(
                session,
                site=where.site.site_id,
                study=where.study,
                raised_by=person.person_id,
                summary=redaction.text.strip(),
                now=now,
                source="teams",
                settings=rt.container.settings,
            )
            shown = service.to_view(esc, now)
    except service.EscalationError as exc:
        return say(f"⛔ Not raised: {exc}")
    keys = queued_now(rt, shown["id"])
    path = ladder(rt, where, shown["category"], shown["severity"])
    notice = redaction.notice() if redaction.changed else None
    site_name = where.site.name or where.site.site_id
    card = raised_card(shown, site_name=site_name, notice=notice, path=path)
    return Outcome(cards.message(card, f"Escalation raised: {shown['id']}"), keys)
