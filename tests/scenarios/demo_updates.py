"""Write tests/scenarios/demo_updates.jsonl and .truth.json from the demo's data (siteline/demo_data/).

    .venv/bin/python tests/scenarios/demo_updates.py      # rewrites the committed files

The demo's hand-written sponsor/CRO updates were written apart from the triage rules, so they are
a small blind test: the scenario is the demo's routing policy, its directory (contract fields only)
and its updates, unchanged; the truth (priority, topic, duplicate_of) is judged here by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from core.directory import load_file

HERE = Path(__file__).parent
DATA = HERE.parents[1] / "siteline" / "demo_data"
START = "2026-03-02T00:00:00Z"
END = "2026-03-16T00:00:00Z"
SITE_FIELDS = {"site_id", "name", "tz", "tier", "studies", "digest_times", "quiet_hours"}
PERSON_FIELDS = {"person_id", "role", "tz", "sites", "studies"}

# update id -> (priority, topic, duplicate_of)
TRUTH: dict[str, tuple[str, str, str | None]] = {
    "u01": ("action", "orion-reconsent-icf-v3", None),
    "u02": ("fyi", "orion-newsletter-march", None),
    "u03": ("urgent", "orion-lot-ORV-25K114-quarantine", None),
    "u04": ("urgent", "orion-lot-ORV-25K114-quarantine", "u03"),  # the CRO's forward, in its own words
    "u05": ("action", "orion-queries-13-march", None),
    "u06": ("fyi", "orion-iwrs-maintenance-7-march", None),  # planned downtime: news, not IP or safety
    "u07": ("action", "orion-reconsent-icf-v3", "u01"),  # RESEND:
    "u08": ("action", "orion-bos-monitoring-visit", None),  # a visit that will review the SAE log: not urgent
    "u09": ("action", "orion-queries-13-march", "u05"),  # REMINDER: with reworded body
    "u10": ("fyi", "vega-enrolment-update", None),
    "u11": ("action", "vega-osa-lab-kits-LK-2203", None),
    "u12": ("fyi", "orion-courier-cutoff-noon", None),
    "u13": ("fyi", "orion-courier-cutoff-noon", "u12"),  # the CRA's rewrite of the sponsor's notice
    "u14": ("action", "orion-sae-form-elearning", None),
    "u15": ("urgent", "orion-dil-conjunctivitis-keratitis", None),  # new safety information changing care
    "u16": ("action", "orion-sae-form-elearning", "u14"),  # Reminder: from another sender, reworded
    "u17": ("urgent", "orion-iwrs-outage-stop", None),  # do not randomise or dispense
}


def build() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    routing = yaml.safe_load((DATA / "routing.yaml").read_text(encoding="utf-8"))
    sites, people = load_file(DATA / "directory.yaml")
    lines: list[dict[str, Any]] = [{"at": START, "type": "policy", "routing": routing}]
    lines += [{"at": START, "type": "site", **s.model_dump(include=SITE_FIELDS)} for s in sites]
    lines += [{"at": START, "type": "person", **p.model_dump(include=PERSON_FIELDS)} for p in people]
    updates = [json.loads(x) for x in (DATA / "updates.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    truth: dict[str, Any] = {"updates": {}, "escalations": {}}
    for u in updates:
        priority, topic, dup = TRUTH[u["id"]]
        addressed = [s.site_id for s in sites if u["study"] in s.studies] if u["sites"] == "all" else u["sites"]
        entry: dict[str, Any] = {"priority": priority, "topic": topic, "sites": addressed}
        if dup:
            entry["duplicate_of"] = dup
        truth["updates"][u["id"]] = entry
    assert set(truth["updates"]) == set(TRUTH), "the demo's updates changed: judge the new ones in TRUTH"
    lines += updates
    lines.append({"at": END, "type": "end"})
    return lines, truth


def main() -> None:
    lines, truth = build()
    (HERE / "demo_updates.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    (HERE / "demo_updates.truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(truth['updates'])} updates -> {HERE / 'demo_updates.jsonl'}")


if __name__ == "__main__":
    main()
