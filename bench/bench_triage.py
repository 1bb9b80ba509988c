"""Triage at scale: replay 1,000 sites × 30 days (generated) and report time, memory and digest rate.

    .venv/bin/python -m bench.bench_triage [--sites 1000] [--days 30] [--seed 11]

Generates the scenario into bench/out/, replays it in a child process (the real `siteline replay`
code path, timed from outside), and scores the output with the contract's check.py when
../shared/contracts is present. Reports wall time, CPU time and peak RSS of the replay, the
digest build rate (digests queued per second spent in the digest flush), and the check figures.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CHECK = ROOT.parent / "shared" / "contracts" / "check.py"
TARGET_S = 60.0


def child(scenario: Path, deliveries: Path) -> None:
    """Runs in the child process: the replay, with the digest flush timed."""
    import triage.plugin
    from siteline.replay import replay

    spent = {"seconds": 0.0, "digests": 0, "flushes": 0}
    flush = triage.plugin.flush_due

    def timed(session: Any, timer: Any, now: Any) -> int:
        t = time.perf_counter()
        n = flush(session, timer, now)
        spent["seconds"] += time.perf_counter() - t
        spent["digests"] += n
        spent["flushes"] += 1
        return n

    triage.plugin.flush_due = timed  # type: ignore[assignment]
    started = time.perf_counter()
    with deliveries.open("w", encoding="utf-8") as fh:
        count = replay(scenario, fh)
    print(json.dumps({"replay_s": time.perf_counter() - started, "deliveries": count, **spent}))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 2))  # spans the US DST change
    a = ap.parse_args(argv if argv is not None else [])

    from bench.gen_scenario import generate, write

    prefix = OUT / f"triage_{a.sites}x{a.days}"
    lines, truth = generate(sites=a.sites, days=a.days, seed=a.seed, start=a.start)
    scenario, truth_path = write(prefix, lines, truth)
    deliveries = prefix.with_name(prefix.name + ".deliveries.jsonl")
    updates = sum(1 for x in lines if x["type"] == "update")
    pairs = sum(len(t["sites"]) for t in truth["updates"].values())

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_triage", "--child", str(scenario), str(deliveries)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"replay failed:\n{proc.stderr}")
    inner = json.loads(proc.stdout.strip().splitlines()[-1])
    result: dict[str, Any] = {
        "sites": a.sites,
        "days": a.days,
        "updates": updates,
        "update_site_pairs": pairs,
        "deliveries": inner["deliveries"],
        "wall_s": round(wall, 1),
        "replay_s": round(inner["replay_s"], 1),
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),  # Linux: KiB
        "digests": inner["digests"],
        "digest_flush_s": round(inner["seconds"], 2),
        "digests_per_s": round(inner["digests"] / inner["seconds"]) if inner["seconds"] else None,
        "target_s": TARGET_S,
    }
    if CHECK.exists():
        score = subprocess.run(
            [sys.executable, str(CHECK), str(scenario), str(truth_path), str(deliveries), "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        report = json.loads(score.stdout.strip().splitlines()[-1])
        result["check"] = {k: report[k] for k in ("pass_", "noise_ratio", "lost", "doubled", "urgent_immediate",
                                                  "false_urgent_items", "duplicates_merged", "false_merges",
                                                  "digests_off_slot_or_quiet")}  # fmt: skip
    (OUT / "triage_bench.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    _print(result)
    return result


def _print(r: dict[str, Any]) -> None:
    print(f"triage replay: {r['sites']} sites × {r['days']} days, {r['updates']} updates, "
          f"{r['update_site_pairs']} update-site pairs, {r['deliveries']} deliveries")  # fmt: skip
    rows = [
        ("wall time (child process, s)", r["wall_s"], f"target ≤ {r['target_s']:.0f}"),
        ("CPU time (s)", r["cpu_s"], ""),
        ("peak RSS (MB)", r["peak_rss_mb"], ""),
        ("digests built", r["digests"], ""),
        ("digest build rate (digests/s of flush time)", r["digests_per_s"], f"{r['digest_flush_s']} s in flushes"),
    ]
    for name, value, note in rows:
        print(f"  {name:<46} {value!s:>10}  {note}")
    if "check" in r:
        c = r["check"]
        print(f"  check.py: {'PASS' if c['pass_'] else 'FAIL'} noise={c['noise_ratio']} lost={c['lost']} "
              f"doubled={c['doubled']} urgent={c['urgent_immediate']} false_urgent={c['false_urgent_items']} "
              f"dups={c['duplicates_merged']} false_merges={c['false_merges']}")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main(sys.argv[1:])
