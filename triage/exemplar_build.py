"""Builds the shipped examples for `triage.semantic` from hand-labelled files and scenario truths.

    .venv/bin/python -m triage.exemplar_build            # writes triage/exemplars.jsonl and .npz
    .venv/bin/python -m triage.exemplar_build --check    # leave-one-source-out figures, writes nothing

Sources: tests/data/triage_priority_train.jsonl (hand-written) and every tests/scenarios/*.truth.json
with its scenario's update texts. Blind sets (tests/data/triage_priority_blind*.jsonl) are never read,
so they stay a fair measurement. Each example's text is the fingerprint core (triage.fingerprint),
the same text the engine compares, so letter greetings and forward wrappers do not pull it around.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.exemplar_vectors import save_vectors
from triage.fingerprint import fingerprint
from triage.semantic import EXEMPLARS_PATH, VECTORS_PATH, Exemplar, UrgentExemplars

ROOT = Path(__file__).resolve().parents[1]
TRAIN_FILES = [ROOT / "tests" / "data" / "triage_priority_train.jsonl"]
SCENARIOS = ROOT / "tests" / "scenarios"


def core_text(subject: str, body: str, study: str = "") -> str:
    return fingerprint(subject, body, (), study).core


def from_labelled(path: Path) -> list[Exemplar]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Exemplar(core_text(r.get("subject", ""), r.get("body", "")), r["priority"], path.name) for r in rows]


def from_scenario(truth_path: Path) -> list[Exemplar]:
    scenario = truth_path.with_name(truth_path.name.removesuffix(".truth.json") + ".jsonl")
    if not scenario.exists():
        return []
    truth = json.loads(truth_path.read_text(encoding="utf-8")).get("updates", {})
    out = []
    for line in scenario.read_text(encoding="utf-8").splitlines():
        event = json.loads(line) if line.strip() else {}
        label = truth.get(event.get("id")) if event.get("type") == "update" else None
        if label and label.get("priority") in ("urgent", "action", "fyi"):
            text = core_text(event.get("subject", ""), event.get("body", ""), event.get("study", ""))
            out.append(Exemplar(text, label["priority"], scenario.name))
    return out


def collect() -> list[Exemplar]:
    exemplars = [e for p in TRAIN_FILES for e in from_labelled(p)]
    for truth in sorted(SCENARIOS.glob("*.truth.json")):
        exemplars += from_scenario(truth)
    seen: set[str] = set()
    unique = []
    for e in exemplars:
        key = " ".join(e.text.lower().split())
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return unique


def check(model: UrgentExemplars) -> str:
    """Leave-one-source-out: each example judged by the examples of the other sources only."""
    sources = np.array([e.source for e in model.exemplars])
    raised = {"urgent": 0, "action": 0, "fyi": 0}
    support = dict.fromkeys(raised, 0)
    for i, e in enumerate(model.exemplars):
        support[e.priority] += 1
        if model.decide(model.vectors[i], exclude=sources == e.source) is not None:
            raised[e.priority] += 1
    return (f"raised to urgent: urgent {raised['urgent']}/{support['urgent']}, "
            f"action {raised['action']}/{support['action']}, fyi {raised['fyi']}/{support['fyi']}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m triage.exemplar_build", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="leave-one-source-out figures only")
    args = parser.parse_args(argv)
    from knowledge.embedding import MiniLmEmbeddings

    exemplars = collect()
    model = UrgentExemplars.build(exemplars, MiniLmEmbeddings())
    print(f"{len(exemplars)} examples; {check(model)}")
    if args.check:
        return
    with EXEMPLARS_PATH.open("w", encoding="utf-8") as fh:
        for e in exemplars:
            row = {"text": e.text, "priority": e.priority, "source": e.source}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    save_vectors(exemplars, model.vectors, VECTORS_PATH)
    print(f"wrote {EXEMPLARS_PATH.name} and {VECTORS_PATH.name}")


if __name__ == "__main__":
    main()
