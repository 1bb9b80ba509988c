"""The dashboard at scale: replay 1,000 sites × 30 days (generated), then time the overview (JSON and
HTML) for the head of clinical operations (every study) and for one study manager, and a Site 360.

    .venv/bin/python -m bench.bench_dashboard [--sites 1000] [--days 30] [--seed 11]

The target is a page in ≤ 1 s. Figures are computed from the replay's own database (SQLite in
memory, the same tables `siteline serve` reads); each measurement is the best and median of 3.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TARGET_S = 1.0


def _timed(fn: Callable[[], object], runs: int = 3) -> dict[str, float]:
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        spent.append(time.perf_counter() - started)
    return {"best_s": round(min(spent), 3), "median_s": round(statistics.median(spent), 3)}


def main(argv: list[str] | None = None, quick: bool = False) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=100 if quick else 1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args(argv if argv is not None else [])

    from bench.gen_scenario import generate, write
    from core.db import transaction
    from core.settings import Settings
    from dashboard import figures, render
    from dashboard.scope import Viewer
    from siteline.replay import replay
    from triage.plugin import build_engine

    OUT.mkdir(parents=True, exist_ok=True)
    lines, truth = generate(sites=a.sites, days=a.days, seed=a.seed, start=date(2026, 3, 2))
    scenario, _ = write(OUT / f"dashboard_{a.sites}x{a.days}", lines, truth)
    classifier = build_engine(Settings(_env_file=None)).classifier
    studies = sorted({s for x in lines if x["type"] == "site" for s in x["studies"]})
    first_site = next(x["site_id"] for x in lines if x["type"] == "site")
    result: dict[str, Any] = {"sites": a.sites, "days": a.days, "studies": len(studies), "target_s": TARGET_S}

    def measure(factory: sessionmaker[Session], end: datetime) -> None:
        head = Viewer.automation()
        manager = Viewer("bench-sm", "study_manager", frozenset({studies[0]}), None)

        def page(viewer: Viewer) -> Callable[[], object]:
            def run() -> object:
                with transaction(factory) as s:
                    data = figures.overview(s, viewer, now=end, days=a.days, classifier=classifier)
                return render.overview(data)

            return run

        def site() -> object:
            with transaction(factory) as s:
                return render.site360(figures.site360(s, head, first_site, now=end, days=a.days), head.to_json())

        result["overview_all_studies"] = _timed(page(head))
        result["overview_one_study"] = _timed(page(manager))
        result["site360"] = _timed(site)

    started = time.perf_counter()
    replay(scenario, io.StringIO(), Settings(_env_file=None), inspect=measure)
    result["replay_and_bench_s"] = round(time.perf_counter() - started, 1)
    (OUT / "dashboard_bench.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
