"""Chat commands' arguments and permissions, the same on every platform.

Slack and Teams parse `escalation-path`, `digest` and `escalate` the same way and apply the
same rules about who may do what; only the rendering differs, and stays in bot/slack and
bot/teams. Messages here are plain text: each adapter escapes them for its own markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.directory import Directory
from core.domain import Person, Site
from escalation.messages import CATEGORY_LABELS
from escalation.policy import CATEGORIES, SEVERITIES

SPONSOR_ROLES = ("cra", "cra_lead", "srm", "study_manager", "medical_monitor", "clinops_head")

SITE_ROLES = ("site_staff",)


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


ALIASES = {
    "ip": "ip_supply", "supply": "ip_supply", "drug": "ip_supply", "shipment": "ip_supply", "kits": "ip_supply",
    "contract": "contract_budget", "budget": "contract_budget", "payment": "contract_budget",
    "ethics": "ethics_regulatory", "regulatory": "ethics_regulatory", "irb": "ethics_regulatory",
    "data": "data_queries", "queries": "data_queries", "edc": "data_queries",
    "technology": "technology_access", "access": "technology_access", "it": "technology_access",
    "staff": "staffing", "protocol": "protocol_clarification", "sae": "safety",
}  # fmt: skip


class Unknown(ValueError):
    pass


def parse(args: list[str], places: list[Where]) -> tuple[str | None, str | None, str | None]:
    """(site id, category, severity) from free words; Unknown names a word that is none of them."""
    sites = {p.site.site_id.lower(): p.site.site_id for p in places}
    site = category = severity = None
    for word in args:
        w = word.lower().strip(",.")
        if w in sites:
            site = sites[w]
        elif w in SEVERITIES:
            severity = w
        elif w in CATEGORIES or w in ALIASES:
            category = ALIASES.get(w, w)
        else:
            known = ", ".join(f"{c} ({CATEGORY_LABELS[c]})" for c in CATEGORIES)
            raise Unknown(f"I don't know \u201c{word}\u201d. Categories: {known}. Severities: {', '.join(SEVERITIES)}.")
    return site, category, severity


KEEP = "keep"

_QUIET = re.compile(r"^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$")


class ParseError(ValueError):
    pass


def parse_setting(text: str) -> tuple[list[str] | None, list[str] | str | None]:
    """`08:30,16:00 quiet 19:00-07:00` → (times, or None to keep them; [start, end], None for
    `quiet off`, or KEEP when quiet hours are not mentioned)."""
    words = text.split()
    lowered = [w.lower() for w in words]
    at = lowered.index("quiet") if "quiet" in lowered else len(words)
    times = [t for t in re.split(r"[,\s]+", " ".join(words[:at])) if t] or None
    if at == len(words):
        return times, KEEP
    tail = " ".join(words[at + 1 :])
    if tail.lower() in ("off", "none", "no"):
        return times, None
    found = _QUIET.match(tail)
    if not found:
        shown = repr(tail) if tail else "nothing"
        raise ParseError(f"quiet_hours: {shown} is not HH:MM-HH:MM (e.g. quiet 19:00-07:00, or quiet off)")
    return times, [found.group(1), found.group(2)]


SUMMARY_MIN, SUMMARY_MAX = 10, 2000  # the minimum is checked on submit: a prefilled summary may be shorter
