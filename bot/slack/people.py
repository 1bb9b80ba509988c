"""Who is typing or clicking, and what they may act for: the directory decides every Slack surface.

Each slash command and button resolves the Slack user to a directory person first; someone not
in the directory gets the same polite refusal as for questions, and no study content. Helpers
here answer the scope questions the triage and escalation surfaces share (which sites a person
may send updates to, set digest times for, or raise an issue for).
"""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session

from bot.slack.runtime import SlackRuntime
from core.db import transaction
from core.directory import Directory
from core.domain import Person, Site
from triage.service import TriageService

SPONSOR_ROLES = ("cra", "cra_lead", "srm", "study_manager", "medical_monitor", "clinops_head")
SITE_ROLES = ("site_staff",)
_services: WeakKeyDictionary[SlackRuntime, TriageService] = WeakKeyDictionary()


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


def triage_of(rt: SlackRuntime) -> TriageService:
    """One TriageService per Slack runtime (its policy is loaded once)."""
    service = _services.get(rt)
    if service is None:
        service = _services[rt] = TriageService.of(rt.container)
    return service


def person_of(rt: SlackRuntime, slack_user_id: str) -> Person | None:
    with transaction(rt.container.factory) as session:
        return Directory(session).person_by_slack(slack_user_id)


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
