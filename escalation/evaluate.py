"""Measure inference on labelled sets, and build the shipped example model.

    python -m escalation.evaluate cv FILE...                    # leave one file out: examples from the others
    python -m escalation.evaluate heldout --train FILE... --test FILE... [--rules YAML] [--misses]
    python -m escalation.evaluate shipped FILE... [--rules-only]  # the installed model (in-sample if shipped)
    python -m escalation.evaluate build FILE...                 # write exemplars.jsonl + exemplars.npz

Labelled files are JSONL rows {"text", "category", "severity"}. Figures: category and severity
accuracy, a per-category confusion, and how often critical was wrongly given or missed (what
changes who is woken). Each text is embedded once per run; the folds reuse the vectors.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from escalation.classifier import (
    EXEMPLARS_PATH,
    Embedder,
    Exemplar,
    ExemplarClassifier,
    default_classifier,
    load_exemplars,
)
from escalation.infer import Inference, decide, infer
from escalation.policy import CATEGORIES
from escalation.rules import RULES_PATH, Rules, load_rules, normalise
from knowledge.exemplar_vectors import save_vectors


@dataclass(frozen=True)
class Labelled:
    text: str
    category: str
    severity: str
    source: str


def read_labelled(paths: Sequence[Path]) -> list[Labelled]:
    out = []
    for path in paths:
        for ex in load_exemplars(path):
            out.append(Labelled(ex.text, ex.category, ex.severity, path.name))
    return out


def report(rows: Sequence[Labelled], got: Sequence[Inference]) -> dict[str, Any]:
    """Accuracy, confusion (true → predicted counts, mistakes only), critical errors and the misses."""
    n = len(rows)
    confusion: dict[str, Counter[str]] = {c: Counter() for c in CATEGORIES}
    misses = []
    for row, g in zip(rows, got, strict=True):
        if g.category != row.category:
            confusion[row.category][g.category] += 1
        if (g.category, g.severity) != (row.category, row.severity):
            misses.append(
                {
                    "text": row.text,
                    "want": [row.category, row.severity],
                    "got": [g.category, g.severity],
                    "why": g.reason,
                }
            )
    return {
        "n": n,
        "category_accuracy": round(sum(g.category == r.category for r, g in zip(rows, got, strict=True)) / n, 3),
        "severity_accuracy": round(sum(g.severity == r.severity for r, g in zip(rows, got, strict=True)) / n, 3),
        "critical_missed": f"{sum(r.severity == 'critical' != g.severity for r, g in zip(rows, got, strict=True))}"
        f"/{sum(r.severity == 'critical' for r in rows)}",
        "critical_wrongly_given": sum(g.severity == "critical" != r.severity for r, g in zip(rows, got, strict=True)),
        "confusion": {c: dict(v) for c, v in confusion.items() if v},
        "misses": misses,
    }


def _embedder() -> Embedder:
    from knowledge.embedding import MiniLmEmbeddings

    return MiniLmEmbeddings()


def held_out(
    train: Sequence[Labelled],
    test: Sequence[Labelled],
    *,
    rules: Rules | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> dict[str, Any]:
    """Inference on `test` with examples from `train` only."""
    embedder = _embedder()
    vectors = (embed or embedder.embed)([r.text for r in [*train, *test]])
    model = ExemplarClassifier(
        [Exemplar(r.text, r.category, r.severity, r.source) for r in train], vectors[: len(train)], embedder
    )
    rules = rules or load_rules()
    got = [
        decide(normalise(r.text), rules, model.read_vector(v)) for r, v in zip(test, vectors[len(train) :], strict=True)
    ]
    return report(test, got)


def cross_validate(
    rows: Sequence[Labelled], *, rules: Rules | None = None, vectors: np.ndarray | None = None
) -> dict[str, Any]:
    """Leave one source file out: each file is inferred with examples from the other files only."""
    embedder = _embedder()
    vectors = embedder.embed([r.text for r in rows]) if vectors is None else vectors
    model = ExemplarClassifier([Exemplar(r.text, r.category, r.severity, r.source) for r in rows], vectors, embedder)
    rules = rules or load_rules()
    got: list[Inference | None] = [None] * len(rows)
    per_file = {}
    for source in dict.fromkeys(r.source for r in rows):
        fold = model.subset([i for i, r in enumerate(rows) if r.source != source])
        mine = [i for i, r in enumerate(rows) if r.source == source]
        for i in mine:
            got[i] = decide(normalise(rows[i].text), rules, fold.read_vector(vectors[i]))
        part = report([rows[i] for i in mine], [got[i] for i in mine])  # type: ignore[misc]
        per_file[source] = {k: v for k, v in part.items() if k not in ("misses", "confusion")}
    return {"per_file": per_file, "all": report(rows, got)}  # type: ignore[arg-type]


def build(paths: Sequence[Path], out: Path = EXEMPLARS_PATH) -> int:
    rows = read_labelled(paths)
    exemplars = [Exemplar(r.text, r.category, r.severity, r.source) for r in rows]
    out.write_text("".join(json.dumps(vars(r), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    save_vectors(exemplars, _embedder().embed([e.text for e in exemplars]), out.with_suffix(".npz"))
    return len(rows)


def _print(name: str, rep: dict[str, Any], misses: bool) -> None:
    print(json.dumps({"set": name, **{k: v for k, v in rep.items() if k != "misses"}}, ensure_ascii=False))
    for m in rep["misses"] if misses else []:
        print(f"  want {m['want']} got {m['got']}: {m['text'][:80]}  [{m['why']}]")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m escalation.evaluate", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cv = sub.add_parser("cv", help="leave-one-file-out cross-validation")
    cv.add_argument("files", nargs="+", type=Path)
    ho = sub.add_parser("heldout", help="examples from --train, scored on --test")
    ho.add_argument("--train", nargs="+", type=Path, required=True)
    ho.add_argument("--test", nargs="+", type=Path, required=True)
    shipped = sub.add_parser("shipped", help="the installed model on labelled files")
    shipped.add_argument("files", nargs="+", type=Path)
    shipped.add_argument("--rules-only", action="store_true")
    bld = sub.add_parser("build", help=f"write {EXEMPLARS_PATH.name} and its vectors from labelled files")
    bld.add_argument("files", nargs="+", type=Path)
    for p in (cv, ho, shipped):
        p.add_argument("--misses", action="store_true", help="list every wrong row")
    for p in (cv, ho):
        p.add_argument("--rules", type=Path, default=RULES_PATH, help="a rules file (e.g. an older version)")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(f"{build(args.files)} examples written to {EXEMPLARS_PATH}")
        return 0
    if args.command == "cv":
        result = cross_validate(read_labelled(args.files), rules=load_rules(args.rules))
        for source, part in result["per_file"].items():
            print(json.dumps({"held_out": source, **part}))
        _print("all (leave one file out)", result["all"], args.misses)
    elif args.command == "heldout":
        rules = load_rules(args.rules)
        _print("held out", held_out(read_labelled(args.train), read_labelled(args.test), rules=rules), args.misses)
    else:
        if not args.rules_only and default_classifier() is None:
            parser.error("the example model did not load (see the warning above)")
        for path in args.files:
            rows = read_labelled([path])
            _print(path.name, report(rows, [infer(r.text, examples=not args.rules_only) for r in rows]), args.misses)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
