"""Who is who: sites, people and their chat identities; the source of every scoping decision."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import Select, delete, inspect, select
from sqlalchemy.orm import Session

from core.domain import Person, Site
from core.models import ChatIdentityRow, PersonRow, SiteRow

CHAT_FIELDS = {"chat", "chat_detail"}  # domain fields kept as chat_identities rows, not columns


def _columns(row: SiteRow | PersonRow) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in inspect(row).mapper.column_attrs}


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


Kind = Literal["person", "site"]
Owner = Site | Person


def _kind(owner: Owner) -> Kind:
    return "site" if isinstance(owner, Site) else "person"


def _owner_id(owner: Owner) -> str:
    return owner.site_id if isinstance(owner, Site) else owner.person_id


def _duplicates(kind: str, ids: Iterable[str]) -> list[str]:
    return [f"{kind} {i} appears more than once" for i, n in Counter(ids).items() if n > 1]


def _identity_conflicts(session: Session, kind: Kind, owners: list[Owner]) -> list[str]:
    """An identity given to two owners of one kind in the file, or held in the directory by another owner
    that the file does not also move it away from."""
    problems: list[str] = []
    claimed: dict[tuple[str, str], str] = {}  # (platform, external id) -> owner in the file
    for owner in owners:
        for platform, external_id in owner.chat.items():
            first = claimed.setdefault((platform, external_id), _owner_id(owner))
            if first != _owner_id(owner):
                problems.append(
                    f"{platform} identity {external_id} is given to both {kind} {first} and {kind} {_owner_id(owner)}"
                )
    in_file = {_owner_id(o): o for o in owners}
    for platform in sorted({p for p, _ in claimed}):
        wanted = [x for p, x in claimed if p == platform]
        stored = session.execute(
            select(ChatIdentityRow.owner_id, ChatIdentityRow.external_id).where(
                ChatIdentityRow.kind == kind,
                ChatIdentityRow.platform == platform,
                ChatIdentityRow.external_id.in_(wanted),
            )
        ).all()
        for holder, external_id in stored:
            new_owner = claimed[(platform, external_id)]
            moved_away = holder in in_file and in_file[holder].chat.get(platform) != external_id
            if holder != new_owner and not moved_away:
                problems.append(
                    f"{platform} identity {external_id} of {kind} {new_owner} already belongs to "
                    f"{kind} {holder} in the directory"
                )
    return problems


def check(session: Session, sites: list[Site], persons: list[Person]) -> None:
    """Refuse, before anything is written, a directory that contradicts itself or what is stored: a site or
    person twice, a chat identity given to two people (or two sites), a person on a site nobody has defined."""
    problems = _duplicates("site", (s.site_id for s in sites)) + _duplicates("person", (p.person_id for p in persons))
    known_sites = {s.site_id for s in sites} | set(session.scalars(select(SiteRow.site_id)))
    for p in persons:
        unknown = [s for s in p.sites if s not in known_sites]
        if unknown:
            problems.append(
                f"person {p.person_id} is on unknown site(s) {', '.join(unknown)} "
                "(in neither this file nor the directory)"
            )
    problems += _identity_conflicts(session, "site", list(sites))
    problems += _identity_conflicts(session, "person", list(persons))
    if problems:
        raise DirectoryError("; ".join(problems))


def _replace_identities(session: Session, owners: list[Owner]) -> None:
    """An entry lists all of its owner's identities: the ones it no longer lists are removed, and one moving
    between two owners of the batch is freed before it is given (the unique constraint holds per statement)."""
    for kind in ("site", "person"):
        ids = [_owner_id(o) for o in owners if _kind(o) == kind]
        if ids:
            session.execute(
                delete(ChatIdentityRow).where(ChatIdentityRow.kind == kind, ChatIdentityRow.owner_id.in_(ids))
            )
    session.flush()
    for owner in owners:
        for platform, external_id in sorted(owner.chat.items()):
            session.add(
                ChatIdentityRow(
                    platform=platform,
                    kind=_kind(owner),
                    external_id=external_id,
                    owner_id=_owner_id(owner),
                    detail=dict(owner.chat_detail.get(platform, {})),
                )
            )


def upsert(session: Session, sites: Iterable[Site], persons: Iterable[Person]) -> tuple[int, int]:
    """Insert or update sites and persons by id, with their chat identities (re-importing a file is safe;
    run `check` first). An identity held by someone the batch does not move it from is refused here too,
    for callers that add one entry at a time (a replay's site and person lines)."""
    sites, persons = list(sites), list(persons)
    taken = _identity_conflicts(session, "site", list(sites)) + _identity_conflicts(session, "person", list(persons))
    if taken:
        raise DirectoryError("; ".join(taken))
    for site in sites:
        session.merge(SiteRow(**site.model_dump(exclude=CHAT_FIELDS)))
    for person in persons:
        session.merge(PersonRow(**person.model_dump(exclude=CHAT_FIELDS)))
    _replace_identities(session, [*sites, *persons])
    session.flush()
    return len(sites), len(persons)


class Directory:
    """Read-side queries over the directory within one session.

    One instance is one unit of work's view: a site, a person and a role's people are read once and
    then remembered (an escalation's raise asks for the same few several times, much of it while
    holding SQLite's write lock). Make a new instance after changing the directory."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._sites_by_id: dict[str, Site | None] = {}
        self._persons_by_id: dict[str, Person | None] = {}
        self._by_role: dict[str, list[Person]] = {}

    def _chat_of(self, kind: Kind, owner_ids: list[str]) -> dict[str, dict[str, Any]]:
        """owner id -> the `chat` and `chat_detail` fields of its domain object, in one query."""
        found: dict[str, dict[str, Any]] = {i: {"chat": {}, "chat_detail": {}} for i in owner_ids}
        if not owner_ids:
            return found
        rows = self.session.execute(
            select(ChatIdentityRow).where(ChatIdentityRow.kind == kind, ChatIdentityRow.owner_id.in_(owner_ids))
        ).scalars()
        for row in rows:
            found[row.owner_id]["chat"][row.platform] = row.external_id
            if row.detail:
                found[row.owner_id]["chat_detail"][row.platform] = dict(row.detail)
        return found

    def _sites(self, rows: Iterable[SiteRow]) -> list[Site]:
        rows = list(rows)
        chat = self._chat_of("site", [r.site_id for r in rows])
        return [Site.model_validate(_columns(r) | chat[r.site_id]) for r in rows]

    def _persons(self, rows: Iterable[PersonRow]) -> list[Person]:
        rows = list(rows)
        chat = self._chat_of("person", [r.person_id for r in rows])
        return [Person.model_validate(_columns(r) | chat[r.person_id]) for r in rows]

    def site(self, site_id: str) -> Site | None:
        if site_id not in self._sites_by_id:
            row = self.session.get(SiteRow, site_id)
            self._sites_by_id[site_id] = self._sites([row])[0] if row else None
        return self._sites_by_id[site_id]

    def person(self, person_id: str) -> Person | None:
        if person_id not in self._persons_by_id:
            row = self.session.get(PersonRow, person_id)
            self._persons_by_id[person_id] = self._persons([row])[0] if row else None
        return self._persons_by_id[person_id]

    def sites(self) -> list[Site]:
        return self._sites(self.session.execute(select(SiteRow).order_by(SiteRow.site_id)).scalars())

    def persons(self) -> list[Person]:
        return self._persons(self.session.execute(select(PersonRow).order_by(PersonRow.person_id)).scalars())

    def _named(self, kind: Kind, platform: str, external_id: str) -> Select[Any]:
        """The statement for the person or site row `external_id` names on `platform`."""
        table, key = (SiteRow, SiteRow.site_id) if kind == "site" else (PersonRow, PersonRow.person_id)
        return (
            select(table)
            .join(ChatIdentityRow, ChatIdentityRow.owner_id == key)
            .where(
                ChatIdentityRow.kind == kind,
                ChatIdentityRow.platform == platform,
                ChatIdentityRow.external_id == external_id,
            )
        )

    def person_by(self, platform: str, external_id: str) -> Person | None:
        """The person `external_id` names on `platform` (any platform name: no code per channel)."""
        row = self.session.execute(self._named("person", platform, external_id)).scalar()
        return self._persons([row])[0] if row else None

    def site_by(self, platform: str, external_id: str) -> Site | None:
        """The site whose conversation `external_id` is on `platform` (a Slack channel, a Teams channel, …)."""
        row = self.session.execute(self._named("site", platform, external_id)).scalar()
        return self._sites([row])[0] if row else None

    def identities_of(self, kind: Kind, owner_id: str) -> dict[str, str]:
        """platform -> external id, for one person or site."""
        return dict(self._chat_of(kind, [owner_id])[owner_id]["chat"])

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
        if role not in self._by_role:
            rows = self.session.execute(select(PersonRow).where(PersonRow.role == role)).scalars()
            self._by_role[role] = self._persons(rows)
        people = self._by_role[role]
        return sorted((p for p in people if p.covers(site=site, study=study)), key=lambda p: p.person_id)
