"""The result of triaging one update: its priority and, per site, what happens to it and why.

Returned by `preview` (nothing stored), by `submit` and by the replay/API handlers (stored), and
rendered by the CLI, the HTTP API and the Slack modal alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.clock import iso

OUTCOMES = ("immediate", "digest", "merged", "suppressed")


@dataclass(frozen=True)
class SiteOutcome:
    site_id: str
    outcome: str  # immediate | digest | merged | suppressed
    reason: str
    carrier: str | None = None  # merged/suppressed: the update that carries this one
    digest_at: datetime | None = None  # digest (or merged into a pending item): when it goes out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"site": self.site_id, "outcome": self.outcome, "reason": self.reason}
        if self.carrier:
            out["carrier"] = self.carrier
        if self.digest_at:
            out["digest_at"] = iso(self.digest_at)
        return out


@dataclass(frozen=True)
class Decision:
    update_id: str
    priority: str
    reason: str
    rule: str
    sites: list[SiteOutcome] = field(default_factory=list)
    sender_flooding: bool = False
    already_received: bool = False  # the id was seen before: nothing new was stored

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for s in self.sites:
            counts[s.outcome] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.update_id,
            "priority": self.priority,
            "reason": self.reason,
            "rule": self.rule,
            "sender_flooding": self.sender_flooding,
            "already_received": self.already_received,
            "counts": self.counts(),
            "sites": [s.to_json() for s in self.sites],
        }
