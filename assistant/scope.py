"""Who is asking and what they may see: every chat answer is scoped by the directory.

A DM is scoped to the asker's studies; a site channel to the studies both the asker and that
site are on. Any other channel gets nothing: its members are not known to be on the study.
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
