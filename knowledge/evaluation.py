"""`siteline eval`: answer a QA set and report retrieval, answer and abstention quality with latency.

A QA line: {"question", "doc", "answer", "evidence", "kind"}; kind "unanswerable" means no
answer exists. Evidence counts as retrieved when a passage of the expected document (matched by
file stem, since the same document may be ingested from another format) contains it, comparing
letters and digits only (PDF extraction and the evidence may differ in spacing and hyphenation).
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.types import Answer, Passage

NUMBER = re.compile(r"(?<![A-Za-z0-9])\d+(?:\.\d+)?")


class QaFileError(ValueError):
    """A QA file line that cannot be used; the message names the line and the field."""


@dataclass(frozen=True)
class QaItem:
    line: int
    question: str
    doc: str
    answer: str
    evidence: str
    kind: str
    id: str = ""

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"


def load_qa(path: Path) -> list[QaItem]:
    items = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise QaFileError(f"{path.name} line {n}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict) or not str(data.get("question") or "").strip():
            raise QaFileError(f"{path.name} line {n}: missing field 'question'")
        kind = str(data.get("kind") or "factoid")
        if kind != "unanswerable" and not str(data.get("evidence") or "").strip():
            raise QaFileError(f"{path.name} line {n}: missing field 'evidence' (needed unless kind is unanswerable)")
        items.append(
            QaItem(
                n,
                str(data["question"]),
                str(data.get("doc") or ""),
                str(data.get("answer") or ""),
                str(data.get("evidence") or ""),
                kind,
                str(data.get("id") or ""),
            )
        )
    return items


EVIDENCE_SHARE = 0.6  # a quote holds the evidence when it has this share of the evidence's words
QUOTE_LIMIT = 600  # a longer quote is a page, not an answer: it counts as a miss
EVIDENCE_WORD = re.compile(r"[a-z0-9]+")


def evidence_share(quote: str, evidence: str) -> float:
    """The share of the evidence's distinct words (letters and digits, lower case) found in the quote."""
    wanted = set(EVIDENCE_WORD.findall(evidence.lower()))
    if not wanted:
        return 0.0
    return len(wanted & set(EVIDENCE_WORD.findall(quote.lower()))) / len(wanted)


def holds_evidence(quote: str, evidence: str) -> bool:
    """The outside measure of a quote: at most QUOTE_LIMIT characters and EVIDENCE_SHARE of the evidence's words."""
    return len(quote) <= QUOTE_LIMIT and evidence_share(quote, evidence) >= EVIDENCE_SHARE


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _stem(name: str) -> str:
    return Path(name).stem.lower()


def contains_evidence(passage: Passage, item: QaItem) -> bool:
    if item.doc and _stem(passage.doc) != _stem(item.doc):
        return False
    return (
        _squash(item.evidence) in _squash(passage.text) or evidence_share(passage.text, item.evidence) >= EVIDENCE_SHARE
    )


def _numbers(text: str) -> set[str]:
    return {n.rstrip("0").rstrip(".") if "." in n else n for n in NUMBER.findall(text)}


def numbers_match(expected: str, got: str) -> bool:
    """Every number of the expected answer appears in the given answer."""
    want = _numbers(expected)
    return bool(want) and want <= _numbers(got)


@dataclass
class Row:
    item: QaItem
    answer: Answer
    evidence_rank: int | None  # 1-based rank of the first passage holding the evidence

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.item.line,
            "id": self.item.id,
            "question": self.item.question,
            "kind": self.item.kind,
            "answer": self.answer.answer,
            "abstained": self.answer.abstained,
            "evidence_rank": self.evidence_rank,
            "citations": [c.to_json() for c in self.answer.citations],
            "mode": self.answer.mode,
            "latency_ms": self.answer.latency_ms,
        }


@dataclass
class Report:
    k: int
    rows: list[Row] = field(default_factory=list)

    def _rate(self, hits: Sequence[bool]) -> float | None:
        return round(sum(hits) / len(hits), 3) if hits else None

    def figures(self) -> dict[str, Any]:
        answerable = [r for r in self.rows if r.item.answerable]
        unanswerable = [r for r in self.rows if not r.item.answerable]
        numeric = [r for r in answerable if r.item.kind == "numeric"]
        latencies = sorted(r.answer.latency_ms for r in self.rows)
        p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))] if latencies else None
        return {
            "questions": len(self.rows),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            f"evidence_in_top_{self.k}": self._rate([r.evidence_rank is not None for r in answerable]),
            "evidence_top_1": self._rate([r.evidence_rank == 1 for r in answerable]),
            "answer_quotes_evidence": self._rate(
                [
                    any(
                        _squash(r.item.evidence) in _squash(c.quote) or _squash(c.quote) in _squash(r.item.evidence)
                        for c in r.answer.citations
                    )
                    for r in answerable
                ]
            ),
            "cited_quotes_hold_evidence": self._rate(
                [
                    not r.answer.abstained and any(holds_evidence(c.quote, r.item.evidence) for c in r.answer.citations)
                    for r in answerable
                ]
            ),
            "first_quote_holds_evidence": self._rate(
                [
                    not r.answer.abstained and holds_evidence(r.answer.citations[0].quote, r.item.evidence)
                    for r in answerable
                    if r.answer.citations or r.answer.abstained
                ]
            ),
            "numeric_answer": self._rate([numbers_match(r.item.answer, r.answer.answer) for r in numeric]),
            "abstained_when_unanswerable": self._rate([r.answer.abstained for r in unanswerable]),
            "missed_abstain": self._rate([not r.answer.abstained for r in unanswerable]),
            "false_abstain": self._rate([r.answer.abstained for r in answerable]),
            "latency_p50_ms": int(statistics.median(latencies)) if latencies else None,
            "latency_p95_ms": p95,
        }

    def breakdown(self, by: str) -> dict[str, dict[str, Any]]:
        """The same figures per document (file stem) or per kind of question."""
        groups: dict[str, list[Row]] = {}
        for row in self.rows:
            key = (_stem(row.item.doc) or "(no document)") if by == "document" else row.item.kind
            groups.setdefault(key, []).append(row)
        return {key: Report(self.k, rows).figures() for key, rows in sorted(groups.items())}


def run_eval(items: Sequence[QaItem], ask: Callable[[str], Answer], *, k: int) -> Report:
    """`ask` answers one question (with k passages retrieved) and returns the Answer with `.retrieved`."""
    report = Report(k)
    for item in items:
        answer = ask(item.question)
        rank = None
        if item.answerable:
            rank = next((i for i, p in enumerate(answer.retrieved[:k], start=1) if contains_evidence(p, item)), None)
        report.rows.append(Row(item, answer, rank))
    return report
