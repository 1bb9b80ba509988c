"""Ask labelled question sets through the real ask path and report latency per set, beside the quality
figures `python -m knowledge.fit folds` gives for the same sets.

    SITELINE_HOME=… python scripts/ask_latency.py QA.jsonl:STUDY [QA2.jsonl:STUDY2 ...]

Every question is asked in process through `KnowledgeService.ask` (retrieval, answer model, reader;
nothing recorded), scoped to its study, with the reader's cache emptied before each question (a cold
cache: a running server answers repeated passages faster). One untimed question first, as a server
pays onnxruntime's first runs once.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np


def main(specs: list[str]) -> int:
    from knowledge.evaluation import load_qa
    from siteline.container import build

    knowledge = build().knowledge
    sets = [(Path(path), study or "EVAL") for path, _, study in (spec.partition(":") for spec in specs)]
    if not sets:
        print(__doc__, file=sys.stderr)
        return 2
    first = load_qa(sets[0][0])[0]
    knowledge.ask(first.question, studies=[sets[0][1]], asker="bench", surface="bench", record=False)
    print(f"{'set':40} {'n':>4} {'p50 ms':>7} {'p95 ms':>7}")
    for path, study in sets:
        took = []
        for item in load_qa(path):
            if knowledge.reader is not None:
                knowledge.reader.clear()
            started = time.perf_counter()
            knowledge.ask(item.question, studies=[study], asker="bench", surface="bench", record=False)
            took.append(1000 * (time.perf_counter() - started))
        p50, p95 = np.percentile(took, [50, 95])
        print(f"{path.name[:40]:40} {len(took):>4} {p50:>7.0f} {p95:>7.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
