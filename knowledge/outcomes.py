"""What ingest reports per file (one outcome each, with its reason) and per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["ingested", "unchanged", "superseded", "skipped", "failed"]


@dataclass
class FileOutcome:
    path: Path
    status: Status
    detail: str = ""
    doc: str = ""
    version: str = ""
    chunks: int = 0
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)  # ingested, but worth a look (e.g. planted instructions)

    def line(self) -> str:
        head = f"{self.status:<10} {self.path.name}" + (f": {self.detail}" if self.detail else "")
        return "\n".join([head, *(f"{'':<10} warning: {w}" for w in self.warnings)])


@dataclass
class IngestReport:
    study: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    vectors_restored: int = 0  # stored chunks of the study that had no vector in the index (knowledge.reindex)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)
