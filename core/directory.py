"""Who is who: sites, people and their chat identities; the source of every scoping decision."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import Person, Site
from core.models import PersonRow, SiteRow


class DirectoryError(ValueError):
    """A directory file that cannot be imported; the message names the entry and the field."""


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "entry"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_entries(raw: Iterable[tuple[str, dict[str, Any]]]) -> tuple[list[Site], list[Person]]:
    """Validate (label, mapping) pairs into sites and persons; the label names the entry in errors."""
    sites: list[Site] = []
    persons: list[Person] = []
    for label, entry in raw:
        if not isinstance(entry, dict):
            raise DirectoryError(f"{label}: expected an object, got {type(entry).__name__}")
        kind = entry.get("type") or ("site" if "site_id" in entry else "person" if "person_id" in entry else None)
        try:
            if kind == "site":
                sites.append(Site.model_validate(entry))
            elif kind == "person":
                persons.append(Person.model_validate(entry))
            else:
                raise DirectoryError(f"{label}: neither a site (site_id) nor a person (person_id)")
        except ValidationError as exc:
            raise DirectoryError(f"{label}: {_describe(exc)}") from None
    return sites, persons


def load_file(path: Path) -> tuple[list[Site], list[Person]]:
    """Read a directory from YAML (`sites:` and `people:`/`persons:` lists) or JSONL (site/person lines)."""
    if not path.exists():
        raise DirectoryError(f"{path}: no such file")
    text = path.read_text(encoding="utf-8")
    entries: list[tuple[str, dict[str, Any]]] = []
    if path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append((f"{path.name} line {n}", json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DirectoryError(f"{path.name} line {n}: not valid JSON ({exc.msg})") from None
    else:
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise DirectoryError(f"{path.name}: not valid YAML ({exc})") from None
        if not isinstance(doc, dict):
            raise DirectoryError(f"{path.name}: expected a mapping with 'sites' and 'people'")
        for i, s in enumerate(doc.get("sites") or []):
            entries.append((f"{path.name} sites[{i}]", {"type": "site", **s} if isinstance(s, dict) else s))
        for key in ("people", "persons"):
            for i, p in enumerate(doc.get(key) or []):
                entries.append((f"{path.name} {key}[{i}]", {"type": "person", **p} if isinstance(p, dict) else p))
    return parse_entries(entries)


IDENTITIES = ("slack_user_id", "teams_user_id")  # each names one person, in the file and in the database


def _duplicates(kind: str, ids: Iterable[str]) -> list[str]:
    return [f"{kind} {i} appears more than once" for i, n in Counter(ids).items() if n > 1]


def check(session: Session, sites: list[Site], persons: list[Person]) -> None:
    """Refuse, before anything is written, a directory that contradicts itself or what is stored: a site or
    person twice, a chat identity given to two people, a person on a site nobody has defined."""
    problems = _duplicates("site", (s.site_id for s in sites)) + _duplicates("person", (p.person_id for p in persons))
    known_sites = {s.site_id for s in sites} | set(session.scalars(select(SiteRow.site_id)))
    for p in persons:
        unknown = [s for s in p.sites if s not in known_sites]
        if unknown:
            problems.append(
                f"person {p.person_id} is on unknown site(s) {', '.join(unknown)} "
                "(in neither this file nor the directory)"
            )
    in_file = {p.person_id: p for p in persons}
    for name in IDENTITIES:
        owner: dict[str, str] = {}
        for p in persons:
            value = getattr(p, name)
            if value and owner.setdefault(value, p.person_id) != p.person_id:
                problems.append(f"{name} {value} is given to both {owner[value]} and {p.person_id}")
        column = getattr(PersonRow, name)
        stored = session.execute(select(PersonRow.person_id, column).where(column.in_(list(owner)))).all()
        for holder, value in stored:
            moved_away = holder in in_file and getattr(in_file[holder], name) != value
            if holder != owner[value] and not moved_away:
                problems.append(f"{name} {value} of {owner[value]} already belongs to {holder} in the directory")
    if problems:
        raise DirectoryError("; ".join(problems))


def upsert(session: Session, sites: Iterable[Site], persons: Iterable[Person]) -> tuple[int, int]:
    """Insert or update sites and persons by id (re-importing a file is safe; run `check` first)."""
    persons = list(persons)
    for person in persons:  # an identity moving between two people: free it first (unique per statement)
        row = session.get(PersonRow, person.person_id)
        for name in IDENTITIES:
            if row is not None and getattr(row, name) not in (None, getattr(person, name)):
                setattr(row, name, None)
    session.flush()
    n_sites = n_persons = 0
    for site in sites:
        session.merge(SiteRow(**site.model_dump()))
        n_sites += 1
    for person in persons:
        session.merge(PersonRow(**person.model_dump()))
        n_persons += 1
    session.flush()
    return n_sites, n_persons


class Directory:
    """Read-side queries over the directory within one session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def site(self, site_id: str) -> Site | None:
        row = self.session.get(SiteRow, site_id)
        return Site.model_validate(row, from_attributes=True) if row else None

    def person(self, person_id: str) -> Person | None:
        row = self.session.get(PersonRow, person_id)
        return Person.model_validate(row, from_attributes=True) if row else None

    def sites(self) -> list[Site]:
        rows = self.session.execute(select(SiteRow).order_by(SiteRow.site_id)).scalars()
        return [Site.model_validate(r, from_attributes=True) for r in rows]

    def persons(self) -> list[Person]:
        rows = self.session.execute(select(PersonRow).order_by(PersonRow.person_id)).scalars()
        return [Person.model_validate(r, from_attributes=True) for r in rows]

    def person_by_slack(self, slack_user_id: str) -> Person | None:
        row = self.session.execute(select(PersonRow).where(PersonRow.slack_user_id == slack_user_id)).scalar()
        return Person.model_validate(row, from_attributes=True) if row else None

    def person_by_teams(self, teams_user_id: str) -> Person | None:
        row = self.session.execute(select(PersonRow).where(PersonRow.teams_user_id == teams_user_id)).scalar()
        return Person.model_validate(row, from_attributes=True) if row else None

    def site_by_slack_channel(self, channel_id: str) -> Site | None:
        row = self.session.execute(select(SiteRow).where(SiteRow.slack_channel_id == channel_id)).scalar()
        return Site.model_validate(row, from_attributes=True) if row else None

    def site_by_teams_conversation(self, conversation_id: str) -> Site | None:
        row = self.session.execute(select(SiteRow).where(SiteRow.teams_conversation_id == conversation_id)).scalar()
        return Site.model_validate(row, from_attributes=True) if row else None

    def studies_for(self, person: Person) -> list[str]:
        """The studies a person may see: sponsor roles see their studies; site people only
        studies that both they and one of their sites are on."""
        if person.role in ("site_staff",):
            site_studies: set[str] = set()
            for site_id in person.sites:
                site = self.site(site_id)
                if site:
                    site_studies.update(site.studies)
            allowed = site_studies & set(person.studies) if person.studies else site_studies
            return sorted(allowed)
        return sorted(set(person.studies))

    def recipients(self, role: str, *, site: str, study: str) -> list[Person]:
        """People with `role` for an issue of `site` on `study`, by the contract's rule."""
        rows = self.session.execute(select(PersonRow).where(PersonRow.role == role)).scalars()
        people = [Person.model_validate(r, from_attributes=True) for r in rows]
        return sorted((p for p in people if p.covers(site=site, study=study)), key=lambda p: p.person_id)
