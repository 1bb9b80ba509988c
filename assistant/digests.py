"""When a site hears from Siteline, from chat: show or set a site's digest times and quiet hours.

The same on every channel: `digest [site] [08:30,16:00] [quiet 19:00-07:00 | quiet off]` as words,
or a form's fields. Who may (the site's staff and CRAs) is decided here; what is valid (a digest
time outside quiet hours) and moving a digest already waiting are triage's `set_preferences`, which
also audits the change as the person who made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from assistant.scope import UNKNOWN_USER, may_set_digest, own_sites, person_for, site_for_conversation
from assistant.types import ChatUser
from assistant.words import KEEP, ParseError, parse_setting
from core.db import transaction
from core.directory import Directory
from core.domain import Person, Site
from escalation.messages import local
from triage.service import Preferences, PreferencesError, TriageService

NOT_YOURS = (
    "Digest times belong to a site: its staff and CRAs can change them. You're not listed on a site, "
    "so there is nothing to show here."
)


@dataclass(frozen=True)
class SiteDigest:
    """A site's settings as a reader sees them: `name` to emphasise, `detail` after it."""

    site: Site
    prefs: Preferences

    @property
    def name(self) -> str:
        return self.site.name or self.site.site_id

    @property
    def detail(self) -> str:
        p = self.prefs
        quiet = f"quiet hours {p.quiet_hours[0]}–{p.quiet_hours[1]}" if p.quiet_hours else "no quiet hours"
        waiting = (
            f"a digest is waiting for {local(p.next_digest_at, p.tz)}"
            if p.next_digest_at
            else "nothing is waiting for a digest"
        )
        times = ", ".join(p.digest_times) or "none"
        return f"({p.site_id}, {p.tz}): digests at {times}; {quiet}; {waiting}."


@dataclass(frozen=True)
class DigestOutcome:
    ok: bool
    message: str = ""  # a refusal, a question back, or why it was not saved
    shown: tuple[SiteDigest, ...] = ()
    saved: bool = False
    show_usage: bool = False  # the reader should be told how to change them


class DigestDesk:
    def __init__(self, *, factory: sessionmaker[Session], triage: TriageService) -> None:
        self.factory = factory
        self.triage = triage

    def sites(self, user: ChatUser) -> tuple[Person | None, list[Site]]:
        """The person, and the sites whose digest they may set."""
        with transaction(self.factory) as session:
            person = person_for(Directory(session), user.platform, user.user_id)
            if person is None:
                return None, []
            return person, [s for s in own_sites(session, person) if may_set_digest(person, s.site_id)]

    def view(self, site: Site) -> SiteDigest:
        return SiteDigest(site, self.triage.preferences(site.site_id))

    def command(self, user: ChatUser, words: list[str], *, conversation_id: str | None) -> DigestOutcome:
        """Show (no settings given) or set one site's digest times; in a site's channel, that site."""
        person, sites = self.sites(user)
        if person is None:
            return DigestOutcome(False, UNKNOWN_USER)
        if not sites:
            return DigestOutcome(False, NOT_YOURS)
        by_id = {s.site_id.lower(): s for s in sites}
        target = by_id.get(words[0].lower()) if words else None
        with transaction(self.factory) as session:
            directory = Directory(session)
            other = directory.site(words[0]) if words and target is None else None
            here = site_for_conversation(directory, user.platform, conversation_id) if conversation_id else None
        if other is not None:
            return DigestOutcome(False, f"You can't change the digest of {other.site_id}: only its staff and CRAs can.")
        rest = " ".join(words[1:] if target else words)
        if target is None:
            target = next(
                (s for s in sites if here and s.site_id == here.site_id), sites[0] if len(sites) == 1 else None
            )
        if not rest:
            shown = [target] if target else sites
            return DigestOutcome(True, shown=tuple(self.view(s) for s in shown), show_usage=True)
        if target is None:
            ids = ", ".join(s.site_id for s in sites)
            return DigestOutcome(
                False, f"Which site? Start with its id ({ids}), e.g. digest {sites[0].site_id} {rest}."
            )
        try:
            times, quiet = parse_setting(rest)
            current = self.triage.preferences(target.site_id)
            prefs = self.triage.set_preferences(
                target.site_id,
                digest_times=times or current.digest_times,
                quiet_hours=current.quiet_hours if quiet == KEEP else quiet,  # type: ignore[arg-type]
                actor=person.person_id,
            )
        except (ParseError, PreferencesError) as exc:
            return DigestOutcome(False, f"Not saved. {exc}.", show_usage=True)
        return DigestOutcome(True, "Saved.", (SiteDigest(target, prefs),), saved=True)

    def save(
        self, user: ChatUser, site_id: str, *, digest_times: list[str], quiet_hours: list[str] | None
    ) -> DigestOutcome:
        """A form's fields, as given (the form shows the current values, so nothing is kept)."""
        person, sites = self.sites(user)
        site = next((s for s in sites if s.site_id == site_id), None)
        if person is None or site is None:
            return DigestOutcome(False, NOT_YOURS if person else UNKNOWN_USER)
        try:
            prefs = self.triage.set_preferences(
                site_id, digest_times=digest_times, quiet_hours=quiet_hours, actor=person.person_id
            )
        except PreferencesError as exc:
            return DigestOutcome(False, str(exc))
        return DigestOutcome(True, "Saved.", (SiteDigest(site, prefs),), saved=True)
