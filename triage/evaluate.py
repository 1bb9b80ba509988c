"""Priority accuracy of the classifier on a labelled file: what a missed urgent costs is measured here.

    .venv/bin/python -m triage.evaluate tests/data/triage_priority_blind3.jsonl [--rules-only] [--misses]

Each line is {"subject", "body", "priority"[, "id"]}. Prints accuracy per true class, urgent recall
(a missed urgent fails a scenario outright), false urgent (a non-urgent update that would interrupt
sites) and overall accuracy. `--rules-only` switches the exemplar signal off, so the two can be compared.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from triage.classify import PRIORITIES, Classifier, Judgment, SenderRecord
from triage.fingerprint import fingerprint


@dataclass(frozen=True)
class Labelled:
    id: str
    subject: str
    body: str
    priority: str


@dataclass
class Scores:
    total: int = 0
    correct: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PRIORITIES, 0))
    support: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PRIORITIES, 0))
    false_urgent: int = 0
    misses: list[tuple[Labelled, Judgment]] = field(default_factory=list)

    @property
    def urgent_recall(self) -> float:
        return self.correct["urgent"] / self.support["urgent"] if self.support["urgent"] else 1.0

    @property
    def accuracy(self) -> float:
        return sum(self.correct.values()) / self.total if self.total else 0.0


def load_labelled(path: Path) -> list[Labelled]:
    """Labelled updates from JSONL; an error names the line and what was wrong."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not str(row.get("subject") or row.get("body") or "").strip():
            raise ValueError(f"{path.name}:{n}: subject and body are both missing")
        if row.get("priority") not in PRIORITIES:
            raise ValueError(f"{path.name}:{n}: priority {row.get('priority')!r} is not one of {PRIORITIES}")
        out.append(Labelled(str(row.get("id") or n), str(row.get("subject") or ""), str(row.get("body") or ""),
                            row["priority"]))  # fmt: skip
    return out


def evaluate(classifier: Classifier, items: Sequence[Labelled]) -> Scores:
    scores = Scores()
    for item in items:
        core = fingerprint(item.subject, item.body).core  # what the engine passes: wrappers removed
        j = classifier.judge(subject=item.subject, body=item.body, due=None, declared=None, sender="eval",
                             record=SenderRecord(), core=core)  # fmt: skip
        scores.total += 1
        scores.support[item.priority] += 1
        if j.priority == item.priority:
            scores.correct[item.priority] += 1
        else:
            scores.misses.append((item, j))
            if j.priority == "urgent":
                scores.false_urgent += 1
    return scores


def report(scores: Scores) -> str:
    lines = [f"{p:7s} {scores.correct[p]:3d}/{scores.support[p]:<3d}" for p in PRIORITIES]
    lines.append(f"urgent recall {scores.urgent_recall:.3f}  false urgent {scores.false_urgent}"
                 f"  accuracy {scores.accuracy:.3f} ({scores.total} updates)")  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m triage.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--rules-only", action="store_true", help="switch the exemplar signal off")
    parser.add_argument("--misses", action="store_true", help="list each wrong judgment")
    args = parser.parse_args(argv)
    from triage.policy import load_policy

    classifier = Classifier(load_policy(), exemplars=None) if args.rules_only else Classifier(load_policy())
    scores = evaluate(classifier, load_labelled(args.file))
    print(report(scores))
    if args.misses:
        for item, j in scores.misses:
            print(f"  {item.id} true={item.priority} got={j.priority} [{j.rule}] {item.subject[:60]}")


if __name__ == "__main__":
    main()
