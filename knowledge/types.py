"""The knowledge engine's public types: what retrieval returns and what an answer is."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the metadata a citation needs."""

    chunk_id: str
    study: str
    doc: str  # file name as ingested
    title: str
    version: str
    section: str
    page: int | None
    text: str
    score: float = 0.0


@dataclass(frozen=True)
class Citation:
    doc: str
    title: str
    version: str
    section: str
    page: int | None
    quote: str  # verbatim text of the cited document
    score: float = 0.0
    chunk_id: str = ""
    alternate: bool = False  # another place that may answer, offered when the engine is not clearly sure

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("chunk_id")
        data["score"] = round(self.score, 3)
        return data


NOT_FOUND = "Not found in the study documents."
ALSO_IN_DOCUMENTS = "Also in the documents:"  # heads the alternates: other places that may answer


@dataclass
class Answer:
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    mode: Literal["extractive", "llm"] = "extractive"
    latency_ms: int = 0
    notes: list[str] = field(default_factory=list)  # e.g. "identifiers were removed", "llm fell back"
    question_id: int | None = None  # set once the question and answer are stored (ask with record=True)
    answer_id: int | None = None
    retrieved: list[Passage] = field(default_factory=list)  # the passages the answer was chosen from (not in JSON)

    def to_json(self) -> dict[str, Any]:
        """The `ask --json` object of the contract."""
        return {
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "mode": self.mode,
            "latency_ms": self.latency_ms,
        }

    @classmethod
    def abstain(cls, mode: Literal["extractive", "llm"] = "extractive") -> Answer:
        return cls(answer=NOT_FOUND, abstained=True, mode=mode)
