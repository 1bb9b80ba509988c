"""Publishing a clarification from a "protocol unclear" cluster.

It becomes a study document of kind `clarification` (so the next site that asks is answered
from it, cited) and an update to the cluster's sites through triage, which judges its priority
like any other update (digest slot, or at once if urgent). The document is ingested first: if it
cannot be read nothing is sent, so sites are never told about a clarification the bot cannot quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from core import audit
from core.db import transaction
from dashboard.clusters import Cluster, clarification_key
from dashboard.scope import NotAllowed, Viewer
from triage.schemas import UpdateIn

MAX_SUBJECT = 200
MAX_BODY = 8000


class ClarificationError(ValueError):
    """A clarification that cannot be published; the message names the field."""


class _Knowledge(Protocol):
    def ingest(
        self, paths: Any, *, study: str, kind: str, version: str | None, now: datetime, progress: bool, actor: str
    ) -> Any: ...


class _Triage(Protocol):
    def submit(self, update: UpdateIn, *, actor: str, source: str) -> Any: ...


@dataclass(frozen=True)
class Published:
    update_id: str
    document: str
    version: str
    decision: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"update": self.update_id, "document": self.document, "version": self.version, "decision": self.decision}


def publish(
    *,
    cluster: Cluster,
    viewer: Viewer,
    subject: str,
    body: str,
    now: datetime,
    home: Path,
    knowledge: _Knowledge,
    triage: _Triage,
    factory: Any,
) -> Published:
    if not viewer.may_publish(cluster.study):
        raise NotAllowed(f"only a study manager of {cluster.study} may publish a clarification")
    subject, body = subject.strip(), body.strip()
    if not subject or len(subject) > MAX_SUBJECT:
        raise ClarificationError(f"subject: give 1 to {MAX_SUBJECT} characters")
    if not body or len(body) > MAX_BODY:
        raise ClarificationError(f"body: give 1 to {MAX_BODY} characters")
    key = clarification_key(cluster.cluster_id)
    version = now.strftime("%Y%m%dT%H%M%SZ")
    folder = home / "clarifications" / cluster.study / version
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.md"
    path.write_text(f"# Clarification: {subject}\n\n{body}\n", encoding="utf-8")
    report = knowledge.ingest(
        [path],
        study=cluster.study,
        kind="clarification",
        version=version,
        now=now,
        progress=False,
        actor=viewer.person_id,
    )
    failed = [o for o in report.outcomes if o.status == "failed"]
    if failed:
        raise ClarificationError(f"body: the clarification could not be ingested ({failed[0].detail})")
    update = UpdateIn.model_validate(
        {
            "id": f"{key}-{version}",
            "from": viewer.person_id,
            "org": "sponsor",
            "study": cluster.study,
            "sites": cluster.sites,
            "subject": f"Clarification: {subject}",
            "body": body,
        }
    )
    decision = triage.submit(update, actor=viewer.person_id, source="dashboard")
    with transaction(factory) as session:
        audit.record(
            session,
            now=now,
            actor=viewer.person_id,
            action="dashboard.clarification",
            subject=key,
            detail={
                "study": cluster.study,
                "sites": cluster.sites,
                "update": update.id,
                "version": version,
                "questions": [q.question_id for q in cluster.members],
            },
        )
    return Published(update.id, key, version, decision.to_json())
