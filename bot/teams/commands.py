"""Typed commands in Teams, with Slack's `/siteline` semantics: `escalation-path` and `digest` here,
`escalate` in escalate.py; the table of names is command_table.py.

Each command is a blocking function of (runtime, invocation) → Outcome (the reply and the outbox
rows to send now), run off the event loop by answering.py. The directory decides who may do what,
exactly as in Slack (the parsers and permission rules of both live in bot/command_args.py); the
engines' service functions do the work and the auditing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from microsoft_agents.activity import Activity

from assistant.scope import UNKNOWN_USER
from bot.command_args import (
    KEEP,
    ParseError,
    Unknown,
    Where,
    may_set_digest,
    own_sites,
    parse,
    parse_setting,
    raise_places,
)
from bot.teams import cards
from bot.teams.command_cards import category_label, describe_prefs, ladders_card, path_elements
from bot.teams.runtime import TeamsRuntime
from core.db import transaction
from core.directory import Directory
from core.domain import Person, Site
from escalation import service
from triage.service import Preferences, PreferencesError, TriageService

DIGEST_USAGE = "Change them with **digest 08:30,16:00 quiet 19:00-07:00** (or **quiet off**)."
NOT_YOURS = (
    "Digest times belong to a site: its staff and CRAs can change them. You're not listed on a site, "
    "so there is nothing to show here."
)
MAX_PLACES = 3
_triage: WeakKeyDictionary[TeamsRuntime, TriageService] = WeakKeyDictionary()


@dataclass(frozen=True)
class Invocation:
    user_key: str  # the id the directory knows the sender by
    args: str
    conversation_id: str  # without ";messageid=…"


@dataclass(frozen=True)
class Outcome:
    reply: Activity
    deliveries: tuple[str, ...] = field(default_factory=tuple)


def triage_of(rt: TeamsRuntime) -> TriageService:
    """One TriageService per Teams runtime (its policy is loaded once)."""
    found = _triage.get(rt)
    if found is None:
        found = _triage[rt] = TriageService.of(rt.container)
    return found


def lookup(rt: TeamsRuntime, inv: Invocation) -> tuple[Person | None, Site | None]:
    """The sender as the directory knows them, and the site whose channel this is (None in a 1:1 chat)."""
    with transaction(rt.factory) as session:
        directory = Directory(session)
        return directory.person_by_teams(inv.user_key), directory.site_by_teams_conversation(inv.conversation_id)


def say(text: str) -> Outcome:
    return Outcome(cards.notice(text))


# -- escalation-path ----------------------------------------------------------------------


def _path_places(rt: TeamsRuntime, person: Person, args: list[str]) -> list[Where]:
    """A site person's own sites; a sponsor-side person's sites on their studies (they name one)."""
    with transaction(rt.factory) as session:
        mine = raise_places(session, person)
        if mine or person.role == "site_staff":
            return mine
        directory = Directory(session)
        studies = set(directory.studies_for(person))
        wanted = {a.lower() for a in args}
        return [
            Where(site, study)
            for site in directory.sites()
            if site.site_id.lower() in wanted
            for study in site.studies
            if (study in studies or person.role == "clinops_head") and person.covers(site=site.site_id, study=study)
        ]


def ladder(rt: TeamsRuntime, where: Where, category: str | None, severity: str | None) -> list[cards.Element]:
    """One site and study's ladder, with what *critical* would change unless it is critical already."""
    now = rt.now()
    with transaction(rt.factory) as session:
        common = {"site": where.site.site_id, "study": where.study, "now": now, "settings": rt.container.settings}
        path = service.describe_path(session, **common, category=category, severity=severity)
        critical = None
        if path["severity"] != "critical":
            critical = service.describe_path(session, **common, category=category, severity="critical")
    site = where.site
    return path_elements(path, site_name=site.name or site.site_id, tz=site.tz, critical=critical, now=now)


def escalation_path(rt: TeamsRuntime, inv: Invocation) -> Outcome:
    person, here = lookup(rt, inv)
    if person is None:
        return say(UNKNOWN_USER)
    args = inv.args.split()
    places = _path_places(rt, person, args)
    if not places:
        return say("Tell me which site: **escalation-path S01 [category]** (a site on one of your studies).")
    try:
        site_id, category, severity = parse(args, places)
    except Unknown as exc:
        return say(str(exc).replace("`", ""))
    if site_id is None and here is not None and any(p.site.site_id == here.site_id for p in places):
        site_id = here.site_id  # in a site's channel: that site's ladder
    shown = [p for p in places if site_id in (None, p.site.site_id)][:MAX_PLACES]
    hint = None if category else "Add a category to see its own ladder, e.g. **escalation-path safety**."
    label = category_label(category) if category else "any issue"
    card_ = ladders_card([ladder(rt, where, category, severity) for where in shown], hint)
    return Outcome(cards.message(card_, f"Escalation path for {label.lower()}"))


# -- digest -------------------------------------------------------------------------------


def digest(rt: TeamsRuntime, inv: Invocation) -> Outcome:
    """Show a site's digest times and quiet hours, or set them (site staff and CRAs of that site)."""
    person, here = lookup(rt, inv)
    if person is None:
        return say(UNKNOWN_USER)
    with transaction(rt.factory) as session:
        sites = [s for s in own_sites(session, person) if may_set_digest(person, s.site_id)]
        args = inv.args.split()
        by_id = {s.site_id.lower(): s for s in sites}
        target = by_id.get(args[0].lower()) if args else None
        other = Directory(session).site(args[0]) if args and target is None else None
    if not sites:
        return say(NOT_YOURS)
    if other is not None:
        return say(f"You can't change the digest of {other.site_id}: only its staff and CRAs can.")
    rest = " ".join(args[1:] if target else args)
    if target is None:
        target = next((s for s in sites if here and s.site_id == here.site_id), sites[0] if len(sites) == 1 else None)
    triage = triage_of(rt)
    if not rest:
        shown = [target] if target else sites
        text = "\n\n".join(describe_prefs(triage.preferences(s.site_id), s) for s in shown)
        return Outcome(cards.message(cards.card([cards.text_block(text), cards.subtle(DIGEST_USAGE)]), "Digest times"))
    if target is None:
        ids = ", ".join(s.site_id for s in sites)
        return say(f"Which site? Start with its id ({ids}), e.g. **digest {sites[0].site_id} {rest}**.")
    try:
        prefs = save_digest(triage, person, target.site_id, rest)
    except (ParseError, PreferencesError) as exc:
        return say(f"⛔ Not saved. {str(exc).replace('`', '')}.\n\n{DIGEST_USAGE}")
    return say(f"✅ Saved. {describe_prefs(prefs, target)}")


def save_digest(triage: TriageService, person: Person, site_id: str, text: str) -> Preferences:
    """Through triage's set_preferences: validated, a waiting digest moved, audited as `person`."""
    current = triage.preferences(site_id)
    times, quiet = parse_setting(text)
    return triage.set_preferences(
        site_id,
        digest_times=times or current.digest_times,
        quiet_hours=current.quiet_hours if quiet == KEEP else quiet,  # type: ignore[arg-type]
        actor=person.person_id,
    )
