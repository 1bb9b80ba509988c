"""Who may see what on the dashboard, from directory roles: a CRA their sites, a study manager
(CRA lead, medical monitor) their studies, a head of clinical operations everything."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import SITE_SCOPED_ROLES, Person
from core.models import SiteRow

PUBLISHERS = ("study_manager", "clinops_head")  # may publish a clarification to their studies' sites


class NotAllowed(PermissionError):
    """The person has no dashboard (site staff live in chat), or the thing asked is outside their scope."""


@dataclass(frozen=True)
class Viewer:
    """A signed-in person (or the API token), with the studies and sites they may see (None: all)."""

    person_id: str
    role: str
    studies: frozenset[str] | None
    sites: frozenset[str] | None

    @classmethod
    def automation(cls) -> Viewer:
        """The API bearer token: the operator's automation sees everything, as `GET /api/stats` does."""
        return cls("api", "api", None, None)

    @classmethod
    def of(cls, person: Person) -> Viewer:
        if person.role == "site_staff":
            raise NotAllowed(f"{person.person_id} is site staff: sites use Siteline in chat, not the dashboard")
        if person.role == "clinops_head":
            return cls(person.person_id, person.role, None, None)
        sites = frozenset(person.sites) if person.role in SITE_SCOPED_ROLES else None
        return cls(person.person_id, person.role, frozenset(person.studies), sites)

    def study_visible(self, study: str) -> bool:
        return self.studies is None or study in self.studies

    def site_studies(self, site: SiteRow) -> list[str]:
        """The studies of `site` this viewer may see there (empty: the site is outside their scope)."""
        if self.sites is not None and site.site_id not in self.sites:
            return []
        return sorted(s for s in (site.studies or []) if self.study_visible(s))

    def may_publish(self, study: str) -> bool:
        return self.role in PUBLISHERS and self.study_visible(study)

    def to_json(self) -> dict[str, object]:
        return {
            "person": self.person_id,
            "role": self.role,
            "studies": sorted(self.studies) if self.studies is not None else "all",
            "sites": sorted(self.sites) if self.sites is not None else "all of their studies",
        }


def visible_sites(session: Session, viewer: Viewer) -> dict[str, tuple[SiteRow, list[str]]]:
    """site_id -> (site, the studies this viewer sees there), for every site in scope."""
    out: dict[str, tuple[SiteRow, list[str]]] = {}
    for site in session.execute(select(SiteRow).order_by(SiteRow.site_id)).scalars():
        studies = viewer.site_studies(site)
        if studies:
            out[site.site_id] = (site, studies)
    return out
