"""Where a person may act: the sites and studies each chat action is offered for, decided once.

Every channel asks these (raise an issue, see a ladder, send an update, set digest times), so a
rule about who may do what exists in one place; the engines check again when they act.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.directory import Directory
from core.domain import Person, Site


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
