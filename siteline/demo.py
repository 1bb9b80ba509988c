"""The local demo: a bundled, fictional study that a newcomer can question within a minute.

`prepare` imports the demo directory and ingests the sample documents through the real
knowledge engine, once (again only when the bundled files change: their fingerprint is kept
in the audit trail). `DemoSession` asks as one directory person, scoped to their studies like
the chat surfaces. `simulate_updates` / `simulate_escalation` run the real triage and escalation
engines through `siteline replay` on a virtual clock, so nothing is sent to anyone.
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from core import audit
from core.clock import iso, parse_instant
from core.db import transaction
from core.directory import Directory, load_file, upsert
from core.domain import Person, Site
from core.models import AuditRow
from knowledge.types import Answer
from scheduler.plugins import load_plugins
from siteline.container import Container

DATA = Path(__file__).resolve().parent / "demo_data"
DEFAULT_PERSON = "p-bos-crc"
PREPARED = "demo.prepared"
SURFACE = "cli"


class DemoError(ValueError):
    """Something the demo user asked for that cannot be done; the message says why."""


@dataclass(frozen=True)
class DemoDocument:
    study: str
    path: Path
    kind: str
    version: str
    effective: date


@dataclass(frozen=True)
class DemoStudy:
    study: str
    title: str
    documents: tuple[DemoDocument, ...]


@dataclass(frozen=True)
class PrepareReport:
    ingested: bool  # False when the bundled study was already in place
    documents: int
    sites: int
    people: int
    vectors_restored: int = 0  # stored chunks embedded again because the index lacked them (a new reader)


def load_manifest(root: Path = DATA) -> list[DemoStudy]:
    """The studies and documents to ingest, in order (superseded versions first)."""
    raw = yaml.safe_load((root / "manifest.yaml").read_text(encoding="utf-8"))
    studies = []
    for study_id, spec in raw["studies"].items():
        docs = tuple(
            DemoDocument(
                study=study_id,
                path=root / d["path"],
                kind=d["kind"],
                version=str(d["version"]),
                effective=date.fromisoformat(str(d["effective"])),
            )
            for d in spec["documents"]
        )
        studies.append(DemoStudy(study_id, spec.get("title", study_id), docs))
    return studies


def fingerprint(root: Path = DATA) -> str:
    """A hash of everything the demo loads: a changed document or directory means prepare again."""
    digest = hashlib.sha256()
    names = ["manifest.yaml", "directory.yaml"] + [
        str(d.path.relative_to(root)) for s in load_manifest(root) for d in s.documents
    ]
    for name in names:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _prepared_fingerprint(container: Container) -> str | None:
    with transaction(container.factory) as session:
        row = session.execute(
            select(AuditRow.detail).where(AuditRow.action == PREPARED).order_by(AuditRow.id.desc()).limit(1)
        ).scalar()
    return (row or {}).get("fingerprint")


def is_prepared(container: Container, root: Path = DATA) -> bool:
    """Whether this exact version of the bundled study is already imported and ingested."""
    return _prepared_fingerprint(container) == fingerprint(root)


def prepare(
    container: Container, *, now: datetime, progress: bool = False, force: bool = False, root: Path = DATA
) -> PrepareReport:
    """Import the demo directory and ingest the sample study, unless this exact version is in place."""
    studies = load_manifest(root)
    documents = [d for s in studies for d in s.documents]
    sites, persons = load_file(root / "directory.yaml")
    fp = fingerprint(root)
    if not force and _prepared_fingerprint(container) == fp:
        # Prepared before, perhaps by an older release whose index another model made: a new reader's
        # collection starts empty, and the demo should answer as well as a fresh one (one read when complete).
        restored = sum(
            container.knowledge.fill_vectors(study, now=now, actor="demo", progress=progress)
            for study in sorted({d.study for d in documents})
        )
        return PrepareReport(False, len(documents), len(sites), len(persons), restored)
    with transaction(container.factory) as session:
        upsert(session, sites, persons)
        audit.record(
            session,
            now=now,
            actor="demo",
            action="directory.import",
            subject="demo_data/directory.yaml",
            detail={"sites": len(sites), "persons": len(persons)},
        )
    for doc in documents:
        report = container.knowledge.ingest(
            [doc.path],
            study=doc.study,
            kind=doc.kind,
            version=doc.version,
            effective=doc.effective,
            now=now,
            progress=progress,
        )
        failed = list(getattr(report, "failed", None) or [])
        if failed:  # not marked prepared: the next run tries again
            raise DemoError(f"could not ingest {doc.path.name}: {failed[0].detail or 'unknown reason'}")
    with transaction(container.factory) as session:
        audit.record(session, now=now, actor="demo", action=PREPARED, subject="demo_data", detail={"fingerprint": fp})
    return PrepareReport(True, len(documents), len(sites), len(persons))


@dataclass(frozen=True)
class Asked:
    question: str  # as the engine saw it: identifiers already removed
    answer: Answer
    notice: str = ""  # the privacy notice when something was removed


class DemoSession:
    """Who the demo user is pretending to be, and their questions, scoped like a chat user's."""

    def __init__(self, container: Container, person_id: str = DEFAULT_PERSON) -> None:
        self.container = container
        self.person = self._person(person_id)

    def _person(self, person_id: str) -> Person:
        with transaction(self.container.factory) as session:
            person = Directory(session).person(person_id)
        if person is None:
            raise DemoError(f"no person {person_id!r} in the directory (try :people)")
        return person

    def switch(self, person_id: str) -> Person:
        self.person = self._person(person_id)
        return self.person

    def people(self) -> list[Person]:
        with transaction(self.container.factory) as session:
            return Directory(session).persons()

    def studies(self) -> list[str]:
        with transaction(self.container.factory) as session:
            return Directory(session).studies_for(self.person)

    def site(self) -> Site | None:
        """The person's (first) site: where their escalations come from."""
        with transaction(self.container.factory) as session:
            directory = Directory(session)
            return next((s for s in map(directory.site, self.person.sites) if s is not None), None)

    def ask(self, question: str, *, now: datetime) -> Asked:
        """Redact identifiers first (as the chat surfaces do), then answer within the person's studies."""
        from privacy import default_guard

        studies = self.studies()
        if not studies:
            raise DemoError(f"{self.person.person_id} is on no study, so there is nothing to answer from")
        redaction = default_guard().redact(question)
        answer = self.container.knowledge.ask(
            redaction.text,
            studies=studies,
            asker=self.person.person_id,
            surface=SURFACE,
            now=now,
            phi_redacted=redaction.changed,
        )
        return Asked(redaction.text, answer, redaction.notice())


# -- what the triage and escalation engines would do (replayed on a virtual clock) ----------


@dataclass(frozen=True)
class Delivery:
    """One output line of the replay contract."""

    at: datetime
    to: str
    channel: str
    kind: str
    items: tuple[dict[str, Any], ...]
    escalation: dict[str, Any] | None


def engine_lines(container: Container) -> set[str]:
    """The input line types the installed engines handle (`update` = triage, `escalation`)."""
    return {t for p in load_plugins(container.settings) for t in p.line_handlers}


def load_updates(root: Path = DATA) -> list[dict[str, Any]]:
    lines = (root / "updates.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _directory_lines(container: Container, at: datetime) -> list[dict[str, Any]]:
    policy = yaml.safe_load((DATA / "routing.yaml").read_text(encoding="utf-8"))
    lines: list[dict[str, Any]] = [{"at": iso(at), "type": "policy", "routing": policy}]
    with transaction(container.factory) as session:
        directory = Directory(session)
        for site in directory.sites():
            lines.append({"at": iso(at), "type": "site", **site.model_dump(exclude_none=True)})
        for person in directory.persons():
            lines.append({"at": iso(at), "type": "person", **person.model_dump(exclude_none=True)})
    return lines


def _replay(container: Container, lines: list[dict[str, Any]]) -> list[Delivery]:
    from siteline.replay import replay

    out = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="siteline-demo-") as tmp:
        path = Path(tmp) / "scenario.jsonl"
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
        replay(path, out, container.settings)
    result = []
    for raw in out.getvalue().splitlines():
        d = json.loads(raw)
        result.append(
            Delivery(parse_instant(d["at"]), d["to"], d["channel"], d["kind"], tuple(d["items"]), d.get("escalation"))
        )
    return result


def simulate_updates(container: Container, root: Path = DATA) -> tuple[list[dict[str, Any]], list[Delivery]]:
    """Push the demo's sponsor/CRO updates through triage; returns the updates and the deliveries."""
    updates = load_updates(root)
    start = parse_instant(updates[0]["at"])
    end = parse_instant(updates[-1]["at"]) + timedelta(days=3)
    lines = [*_directory_lines(container, start), *updates, {"at": iso(end), "type": "end"}]
    return updates, _replay(container, lines)


def simulate_escalation(
    container: Container, *, person: Person, site: Site, study: str, summary: str, now: datetime, days: int = 4
) -> list[Delivery]:
    """Raise `summary` from the person's site and let it run unacknowledged for `days`."""
    start = now.replace(microsecond=0)
    escalation = {
        "at": iso(start),
        "type": "escalation",
        "id": "demo-1",
        "site": site.site_id,
        "study": study,
        "raised_by": person.person_id,
        "summary": summary,
    }
    end = {"at": iso(start + timedelta(days=days)), "type": "end"}
    return _replay(container, [*_directory_lines(container, start), escalation, end])
