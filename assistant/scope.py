"""Who is asking, what they may see and where they may act: every chat answer and action is scoped
by the directory, here, once for every channel.

A DM is scoped to the asker's studies; a site channel to the studies both the asker and that
site are on. Any other channel gets nothing: its members are not known to be on the study.
The places a person may act for (raise an issue, see a ladder, send an update, set digest times)
are decided here too; the engines check again when they act.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from assistant.types import Platform
from core.directory import Directory
from core.domain import Person, Site

UNKNOWN_USER = (
    "Sorry, I don't have you in the Siteline directory yet, so I can't share study documents with you. "
    "Please ask your study team or Siteline admin to add your chat account."
)
NOT_A_SITE_CHANNEL = (
    "I only answer study questions in your site's channel or in a direct message to me, "
    "so study documents stay with the people on the study. Send me a DM, or ask in your site's channel."
)
NO_STUDIES_HERE = (
    "You're not listed on any study of this site, so I can't answer here. "
    "Ask me in a direct message, or contact your Siteline admin if your studies are missing."
)
NO_STUDIES = (
    "You're not listed on any study yet, so I have no documents to answer from. Please contact your Siteline admin."
)
REFUSALS = {
    "unknown_user": UNKNOWN_USER,
    "not_a_site_channel": NOT_A_SITE_CHANNEL,
    "no_studies_here": NO_STUDIES_HERE,
    "no_studies": NO_STUDIES,
}


@dataclass(frozen=True)
class Scope:
    """The resolved asker: the person, the site the conversation belongs to, the studies allowed."""

    person: Person | None
    site: Site | None
    studies: tuple[str, ...]
    refusal: str | None = None  # a code of REFUSALS; None when the person may ask here

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    @property
    def message(self) -> str:
        return REFUSALS.get(self.refusal or "", UNKNOWN_USER)


def person_for(directory: Directory, platform: Platform, user_id: str) -> Person | None:
    """The person this chat account is, on whichever platform it is (identities are data, not code)."""
    return directory.person_by(platform, user_id)


def site_for_conversation(directory: Directory, platform: Platform, conversation_id: str) -> Site | None:
    return directory.site_by(platform, conversation_id)


def home_site(directory: Directory, person: Person, studies: tuple[str, ...]) -> Site | None:
    """The asker's own site for a DM: the first of their sites that runs one of the studies."""
    for site_id in person.sites:
        site = directory.site(site_id)
        if site and (not studies or set(site.studies) & set(studies)):
            return site
    return None


def resolve(session: Session, *, platform: Platform, user_id: str, conversation_id: str, is_direct: bool) -> Scope:
    """Resolve person, site and allowed studies for a message; a refusal says why in plain words."""
    directory = Directory(session)
    person = person_for(directory, platform, user_id)
    if person is None:
        return Scope(None, None, (), "unknown_user")
    mine = tuple(directory.studies_for(person))
    if is_direct:
        if not mine:
            return Scope(person, None, (), "no_studies")
        return Scope(person, home_site(directory, person, mine), mine)
    site = site_for_conversation(directory, platform, conversation_id)
    if site is None:
        return Scope(person, None, (), "not_a_site_channel")
    here = tuple(s for s in mine if s in site.studies)
    if not here:
        return Scope(person, site, (), "no_studies_here")
    return Scope(person, site, here)


# -- where a person may act -------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """A site and one of its studies, as offered in a form ("Berlin Heart Centre · ORION")."""

    site: Site
    study: str

    @property
    def value(self) -> str:
        return f"{self.site.site_id}|{self.study}"

    @property
    def label(self) -> str:
        return f"{self.site.name or self.site.site_id} · {self.study}"


def own_sites(session: Session, person: Person) -> list[Site]:
    """The sites a person is listed on (site staff, CRAs, SRMs), in directory order."""
    directory = Directory(session)
    return [s for s in (directory.site(i) for i in person.sites) if s is not None]


def raise_places(session: Session, person: Person) -> list[Where]:
    """Where a site person may raise an issue: each of their sites × the studies both are on."""
    mine = set(Directory(session).studies_for(person))
    return [Where(site, study) for site in own_sites(session, person) for study in site.studies if study in mine]


def notify_studies(session: Session, person: Person) -> list[str]:
    """Studies a sponsor-side person may send updates for (a head of clinical operations: every study)."""
    directory = Directory(session)
    if person.role == "clinops_head" and not person.studies:
        return sorted({study for site in directory.sites() for study in site.studies})
    return directory.studies_for(person)


def notify_sites(session: Session, person: Person, study: str) -> list[Site]:
    """Sites on `study` that a sponsor-side person may send an update to (the directory's rule)."""
    if study not in notify_studies(session, person):
        return []
    sites = [s for s in Directory(session).sites() if study in s.studies]
    return [s for s in sites if person.covers(site=s.site_id, study=study)]


def covers_whole_study(person: Person) -> bool:
    """Study-wide roles may address "all sites" of a study as the directory has them at send time."""
    return person.role not in ("cra", "srm", "site_staff")


def may_set_digest(person: Person, site_id: str) -> bool:
    """Site staff and CRAs of that site choose when it hears from Siteline."""
    return person.role in ("site_staff", "cra") and site_id in person.sites


def path_places(session: Session, person: Person, named: list[str]) -> list[Where]:
    """Whose escalation ladder a person may look at: a site person's own sites; a sponsor-side
    person's sites on their studies, among the site ids they `named`."""
    mine = raise_places(session, person)
    if mine or person.role == "site_staff":
        return mine
    directory = Directory(session)
    studies = set(directory.studies_for(person))
    wanted = {a.lower() for a in named}
    return [
        Where(site, study)
        for site in directory.sites()
        if site.site_id.lower() in wanted
        for study in site.studies
        if (study in studies or person.role == "clinops_head") and person.covers(site=site.site_id, study=study)
    ]


def choose_place(places: list[Where], words: list[str], here_id: str | None) -> tuple[Where, list[str]]:
    """The place named by the first word(s) (site id and/or study), else the site whose channel this
    is, else the first; returns it with the words left over (the summary)."""
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
