"""Ask labelled question sets through the real ask path and report latency per set, beside the quality
figures `python -m knowledge.fit folds` gives for the same sets.

    SITELINE_HOME=… python -m bench.ask_sets QA.jsonl:STUDY [QA2.jsonl:STUDY2 ...]

Every question is asked in process through `KnowledgeService.ask` as `python -m bench knowledge` asks
(`bench.bench_knowledge.cold_ask`: scoped to its study, nothing recorded, the reader's cache emptied
first), after one untimed question, as a server pays onnxruntime's first runs once.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.bench_knowledge import cold_ask, p50_p95_ms


def main(specs: list[str]) -> int:
    from knowledge.evaluation import load_qa
    from siteline.container import build

    sets = [(Path(path), study or "EVAL") for path, _, study in (spec.partition(":") for spec in specs)]
    if not sets:
        print(__doc__, file=sys.stderr)
        return 2
    knowledge = build().knowledge
    cold_ask(knowledge, load_qa(sets[0][0])[0].question, sets[0][1])
    print(f"{'set':40} {'n':>4} {'p50 ms':>7} {'p95 ms':>7}")
    for path, study in sets:
        took = [cold_ask(knowledge, item.question, study)[1] for item in load_qa(path)]
        p50, p95 = p50_p95_ms(took)
        print(f"{path.name[:40]:40} {len(took):>4} {p50:>7.0f} {p95:>7.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
