"""The "protocol unclear" signal: questions from two or more sites that mean the same thing.

Questions of one study are embedded with the MiniLM model already loaded for retrieval and
linked when their cosine similarity reaches a threshold (single link, so a cluster grows with
each paraphrase). Only groups asked at two or more sites are kept: one site's confusion is a
training matter, several sites' is the protocol's wording. A question weighs more when the
documents did not settle it (abstained, not helpful, handed to the CRA).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import iso
from dashboard import questions
from dashboard.scope import Viewer, visible_sites
from knowledge.models import DocumentRow

Embed = Callable[[Sequence[str]], np.ndarray]
SIMILAR = 0.7  # MiniLM cosine: paraphrases of one question score ~0.75-0.95, different questions < 0.5
UNCLEAR_WEIGHT = 2  # an abstained / not-helpful question counts this much more than an answered one


@dataclass
class Cluster:
    cluster_id: str
    study: str
    members: list[questions.AskedQuestion]
    clarifications: list[str]

    @property
    def sites(self) -> list[str]:
        return sorted({q.site_id for q in self.members if q.site_id})

    @property
    def weight(self) -> int:
        return sum(1 + (UNCLEAR_WEIGHT if q.unclear else 0) for q in self.members)

    def passages(self) -> list[dict[str, Any]]:
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for q in self.members:
            for c in q.citations:
                key = (c.get("doc"), c.get("version"), c.get("section"), c.get("page"))
                seen.setdefault(key, {k: c.get(k) for k in ("doc", "version", "section", "page")})
        return list(seen.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.cluster_id,
            "study": self.study,
            "sites": self.sites,
            "weight": self.weight,
            "questions": len(self.members),
            "unclear": sum(1 for q in self.members if q.unclear),
            "wordings": [
                {
                    "question_id": q.question_id,
                    "site": q.site_id,
                    "at": iso(q.at),
                    "text": q.text,
                    "abstained": q.abstained,
                    "feedback": sorted(q.feedback),
                }
                for q in self.members
            ],
            "passages": self.passages(),
            "clarifications": self.clarifications,
        }


def _components(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    parent = list(range(len(vectors)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sims = vectors @ vectors.T
    for i, j in zip(*np.nonzero(np.triu(sims >= threshold, k=1)), strict=True):
        parent[root(int(i))] = root(int(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(vectors)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def clarification_key(cluster_id: str) -> str:
    """The document key a clarification of this cluster is ingested under (one document, new versions)."""
    return f"clarification-{cluster_id}"


def find(
    session: Session, viewer: Viewer, *, now: datetime, days: float, embed: Embed, threshold: float = SIMILAR
) -> list[Cluster]:
    """Clusters in the viewer's scope, heaviest first."""
    sites = visible_sites(session, viewer)
    asked = questions.load(session, since=now - timedelta(days=days), site_ids=set(sites))
    published = {
        doc_key: title
        for doc_key, title in session.execute(
            select(DocumentRow.doc_key, DocumentRow.title).where(DocumentRow.kind == "clarification")
        )
    }
    out: list[Cluster] = []
    for study in sorted({s for _, studies in sites.values() for s in studies}):
        pool = [q for q in asked if study in q.studies and q.site_id and study in sites[q.site_id][1]]
        if len(pool) < 2:
            continue
        for group in _components(embed([q.text for q in pool]), threshold):
            members = [pool[i] for i in group]
            if len({q.site_id for q in members}) < 2:
                continue
            cluster_id = f"{study}-q{min(q.question_id for q in members)}"
            key = clarification_key(cluster_id)
            out.append(Cluster(cluster_id, study, members, [published[key]] if key in published else []))
    return sorted(out, key=lambda c: (-c.weight, c.cluster_id))
