"""Generate replay scenarios with ground truth, in the forms of the replay contract.

    python -m bench.gen_scenario --sites 40 --days 14 --seed 3 --start 2026-03-02 --out tests/scenarios/x

writes `x.jsonl` (the scenario) and `x.truth.json` (true priority, topic, sites, duplicate_of).
Sites spread over many time zones (with and without DST; the default start spans the US and EU
spring-forward changes), several digest times and quiet hours; sponsors and CROs send urgent,
action and fyi updates in varied wordings, with reminders, resends, "FW:" forwards, sponsor and
CRO copies of the same message (all within 7 days: true duplicates), look-alikes with a new lot,
date or number (new topics), repeats after more than 7 days (new topics) and one CRA who marks
nearly everything urgent. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.scenario_templates import DUP_STYLES, HOLDOUT, HOLDOUT_WRAPPERS, TEMPLATES, Template

ZONES = [
    "Europe/Paris", "America/New_York", "America/Chicago", "Europe/London", "Australia/Sydney", "Asia/Singapore",
    "Asia/Tokyo", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Auckland", "America/Los_Angeles", "Europe/Berlin",
    "America/Denver", "Africa/Johannesburg", "Europe/Madrid", "America/Toronto",
]  # fmt: skip
DIGEST_CHOICES = [["08:30"], ["09:00"], ["07:45"], ["09:00", "14:00"], ["08:00", "16:30"], ["10:15"], ["13:00"]]
QUIET_CHOICES = [["19:00", "07:00"], ["20:00", "06:30"], ["22:00", "07:30"], ["18:30", "07:15"], ["12:00", "13:00"]]
TIERS = ["strategic", "preferred", "standard", "standard"]
POLICY = {
    "chains": {
        "default": [{"role": "cra", "ack_within": "PT24H"}, {"role": "cra_lead", "ack_within": "PT24H"},
                    {"role": "study_manager", "ack_within": "PT48H"}, {"role": "clinops_head"}],
        "safety": [{"role": "medical_monitor", "ack_within": "PT1H"}, {"role": "study_manager", "ack_within": "PT2H"},
                   {"role": "clinops_head"}],
    },
    "tier_overrides": {"strategic": {"timeout_factor": 0.5, "also_notify_at_level_1": ["srm"]}},
    "severity_overrides": {"critical": {"notify_through_level": 2}},
    "working_hours": {"start": "08:00", "end": "18:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]},
}  # fmt: skip


@dataclass
class Sent:
    """An update already generated, remembered so later ones can repeat or imitate it."""

    uid: str
    at: datetime
    study: str
    sites: list[str]
    addressed: Any
    template: Template
    params: dict[str, Any]
    topic: str
    priority: str
    subject: str
    body: str
    due: str | None
    first: bool  # the first message of its topic (not a repeat)


@dataclass
class World:
    rng: random.Random
    templates: list[Template] = field(default_factory=lambda: TEMPLATES)
    holdout: bool = False
    studies: dict[str, list[str]] = field(default_factory=dict)  # study -> site ids
    lines: list[tuple[datetime, int, dict[str, Any]]] = field(default_factory=list)
    truth: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    seq: int = 0
    topics: int = 0

    def add(self, at: datetime, line: dict[str, Any]) -> None:
        self.seq += 1
        self.lines.append((at, self.seq, {"at": _iso(at), **line}))

    def new_id(self) -> str:
        return f"m{len(self.truth) + 1}"

    def new_topic(self) -> str:
        self.topics += 1
        return f"t{self.topics}"


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(
    *, sites: int, days: int, seed: int, start: date, studies: int | None = None, wordings: str = "dev"
) -> tuple[list, dict]:
    """The scenario lines and the truth document (`wordings`: "dev" or the untuned "holdout" set)."""
    rng = random.Random(seed)
    w = World(rng, HOLDOUT if wordings == "holdout" else TEMPLATES, wordings == "holdout")
    t0 = datetime(start.year, start.month, start.day, tzinfo=UTC)
    n_studies = studies or max(2, min(25, sites // 12 + 1))
    study_ids = [f"ST-{100 + i}" for i in range(n_studies)]
    w.add(t0, {"type": "policy", "routing": POLICY})
    _directory(w, t0, sites, study_ids)
    end = t0 + timedelta(days=days)
    for study in study_ids:
        _traffic(w, study, t0, end - timedelta(days=2))
    w.add(end + timedelta(days=1), {"type": "end"})
    w.lines.sort(key=lambda x: (x[0], x[1]))
    truth = {"updates": w.truth, "escalations": {}, "kind": "generated", "seed": seed}
    return [line for _, _, line in w.lines], truth


def _directory(w: World, t0: datetime, n_sites: int, study_ids: list[str]) -> None:
    rng = w.rng
    for s in study_ids:
        w.studies[s] = []
    for i in range(n_sites):
        sid = f"S{i + 1:04d}"
        mine = rng.sample(study_ids, k=min(len(study_ids), rng.choice([1, 1, 2, 2, 3])))
        for s in mine:
            w.studies[s].append(sid)
        w.add(t0, {"type": "site", "site_id": sid, "name": f"Research site {sid}", "tz": rng.choice(ZONES),
                   "tier": rng.choice(TIERS), "studies": sorted(mine), "digest_times": rng.choice(DIGEST_CHOICES),
                   "quiet_hours": rng.choice(QUIET_CHOICES)})  # fmt: skip
    people = [("clinops-1", "clinops_head", [], study_ids), ("cra-flood", "cra", [], study_ids)]
    for s in study_ids:
        people += [(f"sm-{s}", "study_manager", w.studies[s], [s]), (f"cra-{s}", "cra", w.studies[s], [s])]
    for pid, role, sites, studies in people:
        w.add(t0, {"type": "person", "person_id": pid, "role": role, "tz": "Europe/Zurich", "sites": sorted(sites),
                   "studies": sorted(studies)})  # fmt: skip


def _traffic(w: World, study: str, start: datetime, stop: datetime) -> None:
    """About 1.5 new messages a day per study, plus repeats and look-alikes."""
    rng = w.rng
    t = start + timedelta(hours=rng.uniform(1, 10))
    while t < stop:
        roll = rng.random()
        # Repeats point at their topic's first message (as in the contract's example), within 7 days of it.
        firsts = [s for s in w.sent if s.study == study and s.first]
        recent = [s for s in firsts if timedelta(0) < t - s.at < timedelta(days=6, hours=20)]
        stale = [s for s in firsts if timedelta(days=7, hours=6) < t - s.at < timedelta(days=12)
                 and not _sent_lately(w, s, t)]  # fmt: skip
        if recent and roll < 0.28:
            _repeat(w, rng.choice(recent), t)
        elif recent and roll < 0.36:
            _lookalike(w, rng.choice(recent), t)
        elif stale and roll < 0.40:
            old = rng.choice(stale)
            _send(w, t, study, old.template, same_as=old)
        else:
            _send(w, t, study, _pick_template(rng, w.templates))
        t += timedelta(hours=rng.expovariate(1 / 16))


def _sent_lately(w: World, old: Sent, t: datetime) -> bool:
    """Whether `old`'s message already went out again in the last 8 days (an earlier late resend):
    sending it once more would repeat that resend, not start a new topic."""
    return any(
        s.template is old.template and s.params == old.params and t - s.at < timedelta(days=8)
        for s in w.sent
        if s.study == old.study
    )


def _pick_template(rng: random.Random, templates: list[Template]) -> Template:
    weights = [{"urgent": 1.0, "action": 3.0, "fyi": 4.5}[tp.priority] for tp in templates]
    return rng.choices(templates, weights=weights)[0]


def _audience(w: World, study: str) -> tuple[Any, list[str]]:
    sites = w.studies[study]
    if not sites:
        return "all", []
    if w.rng.random() < 0.6 or len(sites) <= 2:
        return "all", sorted(sites)
    chosen = sorted(w.rng.sample(sites, k=w.rng.randint(1, min(6, len(sites) - 1))))
    return chosen, chosen


def _sender(w: World, study: str, priority: str) -> tuple[str, str, str | None]:
    rng = w.rng
    if rng.random() < 0.18:
        return "cra-flood", "cro", "urgent" if rng.random() < 0.92 else None
    org = rng.choice(["sponsor", "cro"])
    who = f"sm-{study}" if org == "sponsor" else f"cra-{study}"
    if priority == "urgent":
        declared = rng.choice(["urgent", "urgent", None])
    else:
        declared = rng.choice([None, None, "normal", "low", "normal"] + (["urgent"] if rng.random() < 0.15 else []))
    return who, org, declared


def _send(w: World, t: datetime, study: str, tp: Template, *, same_as: Sent | None = None) -> Sent:
    params = dict(same_as.params) if same_as else _fresh_params(w, t, study, tp)
    addressed, sites = (same_as.addressed, same_as.sites) if same_as else _audience(w, study)
    return _emit(w, t, study, tp, params, addressed, sites, topic=w.new_topic(), dup_of=None, style=None)


def _fresh_params(w: World, t: datetime, study: str, tp: Template, like: Sent | None = None) -> dict[str, Any]:
    """Parameters for a new topic (`like`: a look-alike of that message) that do not reproduce a
    message of the last 8 days word for word: two identical messages are one message."""
    recent = {(s.subject, s.body) for s in w.sent if s.study == study and t - s.at < timedelta(days=8)}

    def draw() -> dict[str, Any]:
        return tp.vary(w.rng, like.params, t) if like else tp.params(w.rng, t)

    params = draw()
    for _ in range(50):
        subject, body, _due = tp.render(w.rng, params, study)
        if (subject, body) not in recent:
            break
        params = draw()
    return params


def _repeat(w: World, orig: Sent, t: datetime) -> None:
    style = w.rng.choice(DUP_STYLES)
    _emit(w, t, orig.study, orig.template, orig.params, orig.addressed, orig.sites, topic=orig.topic,
          dup_of=orig, style=style)  # fmt: skip


def _lookalike(w: World, orig: Sent, t: datetime) -> None:
    params = _fresh_params(w, t, orig.study, orig.template, like=orig)
    _emit(w, t, orig.study, orig.template, params, orig.addressed, orig.sites, topic=w.new_topic(), dup_of=None,
          style=None)  # fmt: skip


def _emit(
    w: World,
    t: datetime,
    study: str,
    tp: Template,
    params: dict[str, Any],
    addressed: Any,
    sites: list[str],
    *,
    topic: str,
    dup_of: Sent | None,
    style: str | None,
) -> Sent:
    uid = w.new_id()
    subject, body, due = tp.render(w.rng, params, study)
    who, org, declared = _sender(w, study, tp.priority)
    if dup_of is not None and style is not None:
        subject, body, org, who = _restyle(w.rng, style, subject, body, study, org, who, w.holdout)
    line: dict[str, Any] = {"type": "update", "id": uid, "from": who, "org": org, "study": study, "sites": addressed,
                            "subject": subject, "body": body}  # fmt: skip
    if declared:
        line["declared_priority"] = declared
    if due:
        line["due"] = due
    w.add(t, line)
    truth: dict[str, Any] = {"priority": tp.priority, "topic": topic, "template": tp.name, "sites": sites}
    if dup_of is not None:
        truth["duplicate_of"] = dup_of.uid
    w.truth[uid] = truth
    sent = Sent(uid, t, study, sites, addressed, tp, params, topic, tp.priority, subject, body, due, dup_of is None)
    w.sent.append(sent)
    return sent


def _restyle(
    rng: random.Random, style: str, subject: str, body: str, study: str, org: str, who: str, holdout: bool = False
) -> tuple[str, str, str, str]:
    """Dress a true repeat the way people do: reminder, resend, forward, or the other org's copy."""
    if holdout and style in HOLDOUT_WRAPPERS:
        prefixes, intros = HOLDOUT_WRAPPERS[style]
        intro = rng.choice(intros)
        new_org, new_who = ("cro", f"cra-{study}") if style == "forward" else (org, who)
        return rng.choice(prefixes) + subject, (f"{intro}\n\n{body}" if intro else body), new_org, new_who
    if style == "reminder":
        prefix = rng.choice(["Reminder: ", "REMINDER: ", "2nd reminder: ", "Friendly reminder: ", "Reminder - "])
        intro = rng.choice(["Friendly reminder, this is still open.", "Just a reminder in case you missed it.",
                            "Following up on the message below.", ""])  # fmt: skip
        return prefix + subject, (f"{intro}\n\n{body}" if intro else body), org, who
    if style == "forward":
        prefix = rng.choice(["FW: ", "Fwd: ", "FW: ", "TR: "])
        intro = rng.choice(["Forwarding the sponsor's message below.", "Please see the message below.",
                            "Sharing on behalf of the sponsor.", "FYI, forwarding below."])  # fmt: skip
        header = rng.choice(["", f"From: sm-{study}\nSubject: {subject}\n"])
        return prefix + subject, f"{intro}\n\n{header}\n{body}".replace("\n\n\n", "\n\n"), "cro", f"cra-{study}"
    if style == "resend":
        return rng.choice(["", "Resend: ", "[Resend] "]) + subject, body, org, who
    # the same message from the other organisation
    other = "cro" if org == "sponsor" else "sponsor"
    sender = f"cra-{study}" if other == "cro" else f"sm-{study}"
    signoff = rng.choice(["", "\n\nBest regards,\nThe study team", "\n\nThanks"])
    return subject, body + signoff, other, sender


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=40)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--studies", type=int, default=None)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2026, 3, 2))
    ap.add_argument("--wordings", choices=["dev", "holdout"], default="dev", help="template set")
    ap.add_argument("--out", type=Path, required=True, help="path prefix: writes PREFIX.jsonl and PREFIX.truth.json")
    a = ap.parse_args()
    lines, truth = generate(
        sites=a.sites, days=a.days, seed=a.seed, start=a.start, studies=a.studies, wordings=a.wordings
    )
    write(a.out, lines, truth)
    n = sum(1 for x in lines if x["type"] == "update")
    print(f"{a.out}.jsonl: {len(lines)} lines, {n} updates; truth in {a.out}.truth.json")


def write(prefix: Path, lines: list[dict[str, Any]], truth: dict[str, Any]) -> tuple[Path, Path]:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    scenario = prefix.with_name(prefix.name + ".jsonl")
    truth_path = prefix.with_name(prefix.name + ".truth.json")
    with scenario.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    truth_path.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return scenario, truth_path


if __name__ == "__main__":
    main()
