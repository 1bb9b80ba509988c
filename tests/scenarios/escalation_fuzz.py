"""Differential check of the escalation engine against the contract's scorer on random policies.

    .venv/bin/python tests/scenarios/escalation_fuzz.py SEED COUNT [CHECK_PY]

Each round draws a random routing policy (chains of 1-4 random roles and timeouts, tier factors and
extra level-1 roles, through-levels for several severities, a random working week), generates a
30-day scenario with the scenario generator (raises at night, weekends, across DST; quick, late,
at-deadline and before-hours acks and resolves), replays it and scores it with check.py. Prints
one line per round; exit 1 if any round has a mistimed, missing or unexpected notification.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import escalation_generate as gen

from siteline.replay import replay

ROLES = ["cra", "cra_lead", "srm", "study_manager", "medical_monitor", "clinops_head"]
DURATIONS = ["PT30M", "PT1H", "PT90M", "PT2H", "PT4H", "PT8H", "PT24H", "P2D", "PT48H", "PT72H", "P3D"]
STARTS = [datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC), datetime(2026, 10, 19, tzinfo=UTC)]


def random_policy(rng: random.Random) -> dict[str, Any]:
    def chain() -> list[dict[str, str]]:
        levels = [{"role": rng.choice(ROLES), "ack_within": rng.choice(DURATIONS)} for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.8:
            levels[-1].pop("ack_within")
        return levels

    chains = {"default": chain()}
    for category in ("safety", "ip_supply", "contract_budget", "technology_access", "staffing", "data_queries"):
        if rng.random() < 0.5:
            chains[category] = chain()
    start, end = sorted(rng.sample(["07:00", "08:00", "08:30", "09:00", "10:00", "16:00", "17:30", "18:00"], 2))
    week = rng.choice(
        [
            ["Mon", "Tue", "Wed", "Thu", "Fri"],
            ["Sun", "Mon", "Tue", "Wed", "Thu"],
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
        ]
    )
    return {
        "chains": chains,
        "tier_overrides": {
            t: {
                "timeout_factor": rng.choice([0.25, 0.5, 0.75, 1, 1.5]),
                "also_notify_at_level_1": rng.sample(ROLES, rng.randint(0, 2)),
            }
            for t in ("strategic", "preferred", "standard")
            if rng.random() < 0.6
        },
        "severity_overrides": {
            s: {"notify_through_level": rng.randint(1, 3)} for s in ("critical", "high", "medium") if rng.random() < 0.5
        },
        "working_hours": {"start": start, "end": end, "days": week},
    }


def main(seed: int, count: int, check: Path) -> int:
    rng = random.Random(seed)
    bad = 0
    with tempfile.TemporaryDirectory(prefix="escalation-fuzz-") as tmp:
        gen.HERE = Path(tmp)
        for k in range(count):
            name = f"fuzz{k}"
            gen.build(
                name,
                random_policy(rng),
                start=rng.choice(STARTS),
                days=30,
                count=40,
                seed=rng.randint(0, 10**6),
                weekend_bias=0.4,
            )
            folder = Path(tmp) / f"escalation_{name}"
            out = folder / "deliveries.jsonl"
            with out.open("w", encoding="utf-8") as fh:
                replay(folder / "scenario.jsonl", fh)
            done = subprocess.run(
                [
                    sys.executable,
                    str(check),
                    str(folder / "scenario.jsonl"),
                    str(folder / "truth.json"),
                    str(out),
                    "--json",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            report = json.loads(done.stdout.strip().splitlines()[-1])
            line = report["escalation_notifications"]
            bad += " 0 mistimed, 0 missing, 0 unexpected" not in line
            print(name, line, report["problems"][:3], flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    raise SystemExit(
        main(int(args[0]), int(args[1]), Path(args[2] if len(args) > 2 else "/work/shared/contracts/check.py"))
    )
