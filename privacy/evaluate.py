"""Recall and precision of the PHI guard on an annotated JSONL file of synthetic chat messages.

    python -m privacy.evaluate tests/data/phi_cases.jsonl [--split tuning|holdout] [--errors]

Each line: {"id", "text", "phi": [{"kind", "text"}], "keep": [substring, ...], "split"?}. Every
occurrence of a "phi" substring is an identifier of that kind; "keep" lists trial vocabulary that
must come through untouched. An identifier counts as removed only when every letter and digit of it
is covered by findings (a half-redacted name still leaks). A finding is a true positive when it
overlaps an identifier. --errors prints misses and false positives: use it on synthetic data only.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from privacy.redaction import Finding

Detector = Callable[[str], Iterable[Finding]]


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    phi: tuple[tuple[str, int, int], ...]  # (kind, start, end), every occurrence
    keep: tuple[str, ...]
    split: str


@dataclass
class Score:
    gold: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    typed: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    keep_total: int = 0
    keep_intact: int = 0
    errors: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.removed[kind] / self.gold[kind] if self.gold[kind] else 1.0

    def precision(self, kind: str | None = None) -> float:
        predicted = self.predicted[kind] if kind else sum(self.predicted.values())
        correct = self.correct[kind] if kind else sum(self.correct.values())
        return correct / predicted if predicted else 1.0

    def overall_recall(self) -> float:
        total = sum(self.gold.values())
        return sum(self.removed.values()) / total if total else 1.0


def load_cases(path: Path, split: str | None = None) -> list[Case]:
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        text = row["text"]
        spans = []
        for item in row.get("phi", []):
            start = text.find(item["text"])
            if start < 0:
                raise ValueError(f"{path}:{n}: phi text {item['text']!r} does not occur in the message")
            while start >= 0:
                spans.append((item["kind"], start, start + len(item["text"])))
                start = text.find(item["text"], start + 1)
        case = Case(row["id"], text, tuple(spans), tuple(row.get("keep", [])), row.get("split", "tuning"))
        if split is None or case.split == split:
            cases.append(case)
    return cases


def score(cases: Iterable[Case], detect: Detector) -> Score:
    result = Score()
    for case in cases:
        findings = list(detect(case.text))
        _score_case(case, findings, result)
    return result


def _score_case(case: Case, findings: list[Finding], result: Score) -> None:
    covered = _coverage(len(case.text), findings)
    for kind, start, end in case.phi:
        result.gold[kind] += 1
        alnum = [i for i in range(start, end) if case.text[i].isalnum()]
        if all(covered[i] for i in alnum):
            result.removed[kind] += 1
            if all(covered[i] == kind for i in alnum):
                result.typed[kind] += 1
        else:
            result.errors.append(f"{case.id} MISSED {kind} {case.text[start:end]!r}")
    for f in findings:
        result.predicted[f.kind] += 1
        if any(f.start < end and start < f.end for _k, start, end in case.phi):
            result.correct[f.kind] += 1
        else:
            result.errors.append(f"{case.id} FALSE {f.kind} {case.text[f.start : f.end]!r}")
    for word in case.keep:
        start = case.text.find(word)
        result.keep_total += 1
        if not any(covered[i] for i in range(start, start + len(word))):
            result.keep_intact += 1
        else:
            result.errors.append(f"{case.id} DAMAGED {word!r}")


def _coverage(length: int, findings: list[Finding]) -> list[str | None]:
    covered: list[str | None] = [None] * length
    for f in findings:
        for i in range(f.start, f.end):
            covered[i] = f.kind
    return covered


def report(result: Score) -> str:
    kinds = sorted(set(result.gold) | set(result.predicted), key=lambda k: (-result.gold[k], k))
    lines = [f"{'kind':<8} {'gold':>5} {'recall':>7} {'typed':>6} {'found':>6} {'precision':>9}"]
    for k in kinds:
        typed = f"{result.typed[k] / result.gold[k]:.3f}" if result.gold[k] else "-"
        recall = f"{result.recall(k):.3f}" if result.gold[k] else "-"
        precision = f"{result.precision(k):.3f}" if result.predicted[k] else "-"
        lines.append(f"{k:<8} {result.gold[k]:>5} {recall:>7} {typed:>6} {result.predicted[k]:>6} {precision:>9}")
    lines.append(
        f"{'all':<8} {sum(result.gold.values()):>5} {result.overall_recall():>7.3f} {'':>6} "
        f"{sum(result.predicted.values()):>6} {result.precision():>9.3f}"
    )
    lines.append(f"trial vocabulary kept intact: {result.keep_intact}/{result.keep_total}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m privacy.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--split", choices=["tuning", "holdout"], help="score one split only (default: all)")
    parser.add_argument("--errors", action="store_true", help="list misses and false positives (synthetic data only)")
    args = parser.parse_args(argv)

    from privacy.guard import default_guard

    guard = default_guard()
    cases = load_cases(args.path, args.split)
    result = score(cases, lambda text: guard.redact(text).findings)
    print(f"{len(cases)} messages from {args.path}" + (f" (split {args.split})" if args.split else ""))
    print(report(result))
    if args.errors:
        print("\n".join(result.errors))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
