"""Escalations from chat, the same on every channel: see a site's ladder, raise an issue, acknowledge
or resolve one.

Each method takes the chat user, resolves them in the directory, applies the one rule about who may
do it (here or, for acknowledge and resolve, in the escalation engine only), calls the engine, and
returns what to say plus the outbox rows it queued, so the channel can send them at once. Channels
render the outcome (Block Kit, Adaptive Cards, e-mail) and never decide anything themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from assistant.scope import (
    UNKNOWN_USER,
    Where,
    choose_place,
    path_places,
    person_for,
    raise_places,
    site_for_conversation,
)
from assistant.types import ChatUser, Guard, command
from assistant.words import SUMMARY_MAX, SUMMARY_MIN, Unknown, parse
from core.db import transaction
from core.directory import Directory
from core.domain import SITE_ROLES, Person
from core.settings import Settings
from escalation import service
from escalation.deliveries import due_now
from escalation.messages import local

NOT_SITE = (
    "Raising an issue is for site staff. As part of the sponsor team you'll get escalations by DM; "
    f"{command('escalation-path')} shows the ladder a site's issue climbs."
)
NO_PLACE = (
    "You're not listed on a site and study yet, so I can't raise an issue for you. Please ask your Siteline admin."
)
USAGE = f"Say in a sentence what happened and what you need: {command('escalate <summary>')}."
WHICH_SITE = f"Tell me which site: {command('escalation-path S01 [category]')} (a site on one of your studies)."
MAX_LADDERS = 3

ActOutcome = Literal["refused", "acknowledged", "resolved", "already_acknowledged", "already_resolved"]


@dataclass(frozen=True)
class Ladder:
    """One site and study's ladder as the site reads it, with what *critical* would change (None when
    it is critical already)."""

    where: Where
    path: dict[str, Any]
    critical: dict[str, Any] | None
    now: datetime


@dataclass(frozen=True)
class Ladders:
    ok: bool
    message: str = ""  # why not, when not ok
    ladders: tuple[Ladder, ...] = ()
    category: str | None = None


@dataclass(frozen=True)
class Places:
    """Where a site person may raise an issue, and the place to offer first."""

    ok: bool
    message: str = ""
    places: tuple[Where, ...] = ()
    chosen: Where | None = None
    person_id: str = ""


@dataclass(frozen=True)
class Raised:
    ok: bool
    message: str
    escalation: dict[str, Any] | None = None  # the engine's view: id, category, severity, level, …
    ladder: Ladder | None = None
    notice: str | None = None  # "identifiers were removed", shown beside the confirmation
    deliveries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Acted:
    ok: bool
    message: str
    outcome: ActOutcome = "refused"
    still_open: bool = False  # acknowledged, not resolved: Resolve stays on offer
    deliveries: tuple[str, ...] = ()


class EscalationDesk:
    def __init__(self, *, settings: Settings, factory: sessionmaker[Session], guard: Guard) -> None:
        self.settings = settings
        self.factory = factory
        self.guard = guard

    # -- the ladder ------------------------------------------------------------------------

    def ladder(self, where: Where, category: str | None, severity: str | None, now: datetime) -> Ladder:
        with transaction(self.factory) as session:
            args = {"site": where.site.site_id, "study": where.study, "now": now, "settings": self.settings}
            path = service.describe_path(session, **args, category=category, severity=severity)
            critical = None
            if path["severity"] != "critical":
                critical = service.describe_path(session, **args, category=category, severity="critical")
        return Ladder(where, path, critical, now)

    def path(self, user: ChatUser, words: list[str], *, conversation_id: str | None, now: datetime) -> Ladders:
        """`escalation-path [site] [category] [severity]`: the ladders this person may see (in a site's
        channel, that site's)."""
        with transaction(self.factory) as session:
            directory = Directory(session)
            person = person_for(directory, user.platform, user.user_id)
            if person is None:
                return Ladders(False, UNKNOWN_USER)
            places = path_places(session, person, words)
            here = site_for_conversation(directory, user.platform, conversation_id) if conversation_id else None
        if not places:
            return Ladders(False, WHICH_SITE)
        try:
            site_id, category, severity = parse(words, places)
        except Unknown as exc:
            return Ladders(False, str(exc))
        if site_id is None and here is not None and any(p.site.site_id == here.site_id for p in places):
            site_id = here.site_id
        shown = [p for p in places if site_id in (None, p.site.site_id)][:MAX_LADDERS]
        return Ladders(True, ladders=tuple(self.ladder(w, category, severity, now) for w in shown), category=category)

    # -- raising ---------------------------------------------------------------------------

    def places(self, user: ChatUser, *, conversation_id: str | None = None) -> Places:
        """Where this person may raise an issue (site staff only), the channel's own site first."""
        with transaction(self.factory) as session:
            directory = Directory(session)
            person = person_for(directory, user.platform, user.user_id)
            refusal = _may_raise(person)
            if refusal:
                return Places(False, refusal)
            assert person is not None
            places = raise_places(session, person)
            here = site_for_conversation(directory, user.platform, conversation_id) if conversation_id else None
        if not places:
            return Places(False, NO_PLACE)
        chosen = next((p for p in places if here and p.site.site_id == here.site_id), places[0])
        return Places(True, places=tuple(places), chosen=chosen, person_id=person.person_id)

    def raise_from_words(
        self, user: ChatUser, text: str, *, conversation_id: str | None, source: str, now: datetime
    ) -> Raised:
        """`escalate [site] [study] <summary>`: the place named first, else this channel's site."""
        offered = self.places(user, conversation_id=conversation_id)
        if not offered.ok or offered.chosen is None:
            return Raised(False, offered.message)
        here = offered.chosen.site.site_id if conversation_id else None
        where, rest = choose_place(list(offered.places), text.split(), here)
        return self._file(offered.person_id, where, " ".join(rest), None, None, source=source, now=now)

    def raise_issue(
        self,
        user: ChatUser,
        place: str,
        summary: str,
        *,
        category: str | None = None,
        severity: str | None = None,
        source: str,
        now: datetime,
    ) -> Raised:
        """File an issue for `place` (a `Where.value`): PHI removed first, category and severity inferred
        when not given; returns the confirmation, the ladder it will climb and what to send now."""
        offered = self.places(user)
        if not offered.ok:
            return Raised(False, offered.message)
        where = next((p for p in offered.places if p.value == place), None)
        if where is None:
            return Raised(False, "Choose one of your sites and studies.")
        return self._file(offered.person_id, where, summary, category, severity, source=source, now=now)

    def _file(
        self,
        person_id: str,
        where: Where,
        summary: str,
        category: str | None,
        severity: str | None,
        *,
        source: str,
        now: datetime,
    ) -> Raised:
        summary = summary.strip()
        if len(summary) < SUMMARY_MIN:
            return Raised(False, USAGE)
        if len(summary) > SUMMARY_MAX:
            return Raised(False, f"That is {len(summary)} characters; please keep the summary under {SUMMARY_MAX}.")
        redaction = self.guard.redact(summary)
        try:
            with transaction(self.factory) as session:
                esc = service.raise_escalation(
                    session,
                    site=where.site.site_id,
                    study=where.study,
                    raised_by=person_id,
                    summary=redaction.text.strip(),
                    category=category,
                    severity=severity,
                    now=now,
                    source=source,
                    settings=self.settings,
                )
                shown = service.to_view(esc, now)
                queued = due_now(session, esc.id, now)
        except service.EscalationError as exc:
            return Raised(False, f"Not raised: {exc}")
        ladder = self.ladder(where, shown["category"], shown["severity"], now)
        notice = redaction.notice() if redaction.changed else None
        return Raised(True, f"Escalation raised: {shown['id']}", shown, ladder, notice, queued)

    # -- acknowledge and resolve -----------------------------------------------------------

    def act(self, user: ChatUser, escalation_id: str, *, resolve: bool, now: datetime) -> Acted:
        with transaction(self.factory) as session:
            person = person_for(Directory(session), user.platform, user.user_id)
        if person is None:
            return Acted(False, UNKNOWN_USER)
        return self.act_as(person.person_id, escalation_id, resolve=resolve, now=now)

    def act_as(self, person_id: str, escalation_id: str, *, resolve: bool, now: datetime) -> Acted:
        """Acknowledge or resolve as a directory person (a chat click, or an e-mail's acknowledge link).
        Who may is the engine's rule alone; a second click says who was first."""
        verb = "resolve" if resolve else "acknowledge"
        where = ""
        try:
            with transaction(self.factory) as session:
                directory = Directory(session)
                person = directory.person(person_id)
                if person is None:
                    return Acted(False, UNKNOWN_USER)
                row = service.get(session, escalation_id)
                where = f"site {row.site} / {row.study}"
                first = row.resolved_by if resolve else row.acked_by  # someone may have been first
                if resolve:
                    esc = service.resolve(session, escalation_id=escalation_id, by=person_id, now=now)
                    if first is not None or esc.resolved_by != person_id:
                        who = _name(directory, esc.resolved_by)
                        return Acted(True, f"Already resolved by {who}.", "already_resolved")
                    message = f"Resolved by {person.name or person_id} at {_when(person, now)}. The site was told."
                    return Acted(True, message, "resolved", deliveries=due_now(session, escalation_id, now))
                esc = service.ack(session, escalation_id=escalation_id, by=person_id, now=now)
                if first is not None or esc.acked_by != person_id:
                    who = _name(directory, esc.acked_by)
                    return Acted(True, f"Already acknowledged by {who}.", "already_acknowledged", still_open=True)
                message = (
                    f"Acknowledged by {person.name or person_id} at {_when(person, now)}. "
                    "It won't go further up; the site was told."
                )
                return Acted(True, message, "acknowledged", True, due_now(session, escalation_id, now))
        except service.Forbidden:
            who = f"the sponsor team of {where}" if not resolve else f"the people of {where} and its sponsor team"
            return Acted(False, f"You can't {verb} escalation {escalation_id}: only {who} can.")
        except service.NotFound:
            return Acted(False, f"I can't find escalation {escalation_id} any more.")
        except service.Conflict:
            return Acted(False, f"Escalation {escalation_id} is already resolved: nothing left to {verb}.")


def _may_raise(person: Person | None) -> str | None:
    if person is None:
        return UNKNOWN_USER
    return None if person.role in SITE_ROLES else NOT_SITE


def _when(person: Person, now: datetime) -> str:
    return f"{local(now, person.tz)} ({person.tz})"


def _name(directory: Directory, person_id: str | None) -> str:
    person = directory.person(person_id or "")
    return (person.name or person.person_id) if person else (person_id or "someone else")
