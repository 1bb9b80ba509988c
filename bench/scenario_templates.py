"""Message templates for generated scenarios: what sponsors and CROs really send to sites.

Each template has a true priority, a few wordings, parameters (lots, dates, counts) and a way to
make a look-alike (same wording, a new lot/date/number: a different message).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

Params = dict[str, Any]


def _lot(rng: random.Random) -> str:
    return f"L{rng.randint(1000, 9999)}"


def _day(rng: random.Random, t: datetime, lo: int = 5, hi: int = 20) -> str:
    return (t.date() + timedelta(days=rng.randint(lo, hi))).isoformat()


@dataclass(frozen=True)
class Template:
    name: str
    priority: str  # the truth
    wordings: tuple[tuple[str, str], ...]  # (subject, body) format strings
    make: Callable[[random.Random, datetime], Params]
    due_param: str | None = None  # which param is the `due` field (action templates)

    def params(self, rng: random.Random, t: datetime) -> Params:
        p = self.make(rng, t)
        p["_w"] = rng.randrange(len(self.wordings))
        return p

    def vary(self, rng: random.Random, p: Params, t: datetime) -> Params:
        """A look-alike: every parameter drawn again (kept only if the draw happens to repeat)."""
        fresh = self.make(rng, t)
        for _ in range(20):
            if all(fresh[k] != p[k] for k in fresh):
                break
            fresh = self.make(rng, t)
        fresh["_w"] = p["_w"]
        return fresh

    def render(self, rng: random.Random, p: Params, study: str) -> tuple[str, str, str | None]:
        subject, body = self.wordings[p["_w"]]
        values = {k: v for k, v in p.items() if not k.startswith("_")} | {"study": study}
        due = str(p[self.due_param]) if self.due_param else None
        return subject.format(**values), body.format(**values), due


T = Template
TEMPLATES: list[Template] = [
    # --- urgent: safety, IP integrity, enrolment holds, emergency unblinding
    T("stop_dispense", "urgent", (
        ("Stop dispensing bottle lot {lot}", "Quality found cracked bottles in lot {lot}. Stop dispensing it now and "
         "keep it in quarantine."),
        ("Lot {lot}: do not dispense", "Do not dispense any kit from lot {lot} until further notice. Move the kits to "
         "quarantine and confirm the count in the IWRS."),
    ), lambda r, t: {"lot": _lot(r)}),
    T("temp_excursion", "urgent", (
        ("Temperature excursion at depot, shipment {ship}", "Kits from shipment {ship} were exposed to {temp} °C "
         "during transport. Quarantine them on receipt and do not use them until QA releases them."),
    ), lambda r, t: {"ship": f"SH-{r.randint(10000, 99999)}", "temp": r.choice([12, 14, 27, 31, 35])}),
    T("recall", "urgent", (
        ("Recall of study drug lot {lot}", "The manufacturer is recalling lot {lot}. Return all unused kits from this "
         "lot to the depot within {n} days."),
    ), lambda r, t: {"lot": _lot(r), "n": r.choice([2, 3, 5])}),
    T("susar", "urgent", (
        ("SUSAR notification {ref}", "A suspected unexpected serious adverse reaction (ref {ref}) was reported with "
         "the study drug. Inform the investigator today and file the notification in the ISF."),
    ), lambda r, t: {"ref": f"SU-{r.randint(100, 999)}"}),
    T("dosing_pause", "urgent", (
        ("Dosing paused in cohort {n}", "Following the safety review, dosing in cohort {n} is paused with immediate "
         "effect. Do not administer further doses until further notice."),
    ), lambda r, t: {"n": r.randint(1, 9)}),
    T("enrolment_hold", "urgent", (
        ("Enrolment on hold from {d}", "Screening and randomisation are on hold from {d} pending a protocol "
         "amendment. Do not consent new participants."),
    ), lambda r, t: {"d": _day(r, t, 0, 3)}),
    T("unblinding", "urgent", (
        ("Emergency unblinding: new procedure from {d}", "From {d}, emergency unblinding is done in the IWRS only; "
         "the sealed envelopes are withdrawn. Brief the investigators today."),
    ), lambda r, t: {"d": _day(r, t, 1, 4)}),
    # --- action: a request with a due date
    T("open_queries", "action", (
        ("Open queries due {d}", "{n} queries are open for your site. Please close them by {d}."),
        ("Data queries to resolve by {d}", "Your site has {n} open data queries in the EDC. Please answer them "
         "before {d}."),
    ), lambda r, t: {"n": r.randint(3, 60), "d": _day(r, t)}, "d"),
    T("site_file_review", "action", (
        ("ISF review before the {visit} visit", "Please make sure the investigator site file is complete before "
         "the {visit} visit on {d}."),
    ), lambda r, t: {"visit": r.choice(["close-out", "monitoring", "audit"]), "d": _day(r, t)}, "d"),
    T("survey", "action", (
        ("Site satisfaction survey", "Please take five minutes to answer our site satisfaction survey by {d}."),
    ), lambda r, t: {"d": _day(r, t)}, "d"),
    T("training", "action", (
        ("Training on protocol amendment {n}", "Please complete the training on protocol amendment {n} in the "
         "learning system by {d}."),
    ), lambda r, t: {"n": r.randint(2, 8), "d": _day(r, t)}, "d"),
    T("delegation_log", "action", (
        ("Delegation log signature", "Please send the delegation log signed by the PI by {d}; {n} new staff "
         "members are missing."),
    ), lambda r, t: {"n": r.randint(1, 4), "d": _day(r, t)}, "d"),
    T("reconsent", "action", (
        ("Re-consent with ICF version {v}", "Please re-consent active participants with ICF version {v} at their "
         "next visit, and by {d} at the latest."),
    ), lambda r, t: {"v": f"{r.randint(3, 9)}.{r.randint(0, 3)}", "d": _day(r, t, 10, 30)}, "d"),
    # --- fyi: everything else
    T("office_move", "fyi", (
        ("Our office is moving", "The study team moves to a new office on {d}; phone numbers stay the same."),
    ), lambda r, t: {"d": _day(r, t, 20, 40)}),
    T("newsletter", "fyi", (
        ("Quarterly newsletter no. {n}", "News from the study team: recruitment figures, new sites and upcoming "
         "conferences. Issue {n}."),
    ), lambda r, t: {"n": r.randint(10, 99)}),
    T("milestone", "fyi", (
        ("{n} participants randomised", "{n} participants have been randomised in {study} so far. Thank you all."),
    ), lambda r, t: {"n": r.randrange(50, 900, 10)}),
    T("holiday", "fyi", (
        ("Sponsor office closed on {d}", "The sponsor office is closed on {d}. The medical monitor hotline stays "
         "open as usual."),
    ), lambda r, t: {"d": _day(r, t, 3, 25)}),
    T("new_cra", "fyi", (
        ("Introducing your new CRA", "From {d} your site is monitored by a new CRA, who will call to introduce "
         "themselves."),
    ), lambda r, t: {"d": _day(r, t, 5, 20)}),
    T("publication", "fyi", (
        ("Poster {p} accepted at congress {y}", "Poster {p} on the baseline characteristics was accepted at the {y} "
         "annual congress."),
    ), lambda r, t: {"p": f"P{r.randint(100, 999)}", "y": r.randint(2026, 2027)}),
]  # fmt: skip
DUP_STYLES = ["reminder", "forward", "resend", "copy"]

# A second set, written apart from the rules: other phrasings of the same kinds of message, to see
# how triage copes with wordings it was not tuned on (`gen_scenario --wordings holdout`).
HOLDOUT: list[Template] = [
    T("lot_block", "urgent", (
        ("Immediate action: lot {lot} must not be used", "Our QA team found a labelling error on lot {lot}. Take all "
         "kits of this lot off the shelf and keep them apart until we send instructions."),
    ), lambda r, t: {"lot": _lot(r)}),
    T("cold_storage", "urgent", (
        ("Cold storage failure, shipment {ship}", "Shipment {ship} was stored at {temp} °C for six hours. Segregate "
         "the kits and wait for the QA decision before any use."),
    ), lambda r, t: {"ship": f"SH-{r.randint(10000, 99999)}", "temp": r.choice([15, 18, 26, 30])}),
    T("dose_interruption", "urgent", (
        ("Patient safety: dosing interruption in arm {arm}", "Because of {n} liver signals, dosing in arm {arm} is "
         "interrupted today. Call participants scheduled this week."),
    ), lambda r, t: {"arm": r.choice("ABCD"), "n": r.randint(2, 5)}),
    T("fatal_case", "urgent", (
        ("Fatal case reported, ref {ref}", "A fatal case (ref {ref}) was reported in the programme. Read the attached "
         "letter with your investigator today."),
    ), lambda r, t: {"ref": f"FC-{r.randint(100, 999)}"}),
    T("recruitment_freeze", "urgent", (
        ("Recruitment freeze from {d}", "Recruitment freeze from {d}: screen no new patients until the amended "
         "protocol is approved."),
    ), lambda r, t: {"d": _day(r, t, 0, 2)}),
    T("unblind_hotline", "urgent", (
        ("Code-break hotline number changed", "In a medical emergency, unblind through the new hotline "
         "+44 20 {n}; the old number stops working on {d}."),
    ), lambda r, t: {"n": r.randint(1000000, 9999999), "d": _day(r, t, 1, 3)}),
    T("pending_forms", "action", (
        ("Missing eCRF pages", "{n} eCRF pages are still missing for your site; kindly complete them before {d}."),
    ), lambda r, t: {"n": r.randint(2, 40), "d": _day(r, t)}, "d"),
    T("cv_update", "action", (
        ("Updated CVs needed", "Send us the signed and dated CVs of your {n} sub-investigators no later than {d}."),
    ), lambda r, t: {"n": r.randint(1, 5), "d": _day(r, t)}, "d"),
    T("lab_kits", "action", (
        ("Lab kit expiry check", "Check the expiry dates of your lab kits and order replacements by {d}."),
    ), lambda r, t: {"d": _day(r, t)}, "d"),
    T("monitoring_visit", "action", (
        ("Monitoring visit confirmation", "Please confirm the on-site monitoring visit planned for {d} and book a "
         "room for {n} hours."),
    ), lambda r, t: {"d": _day(r, t), "n": r.randint(3, 8)}, "d"),
    T("team_news", "fyi", (
        ("Welcome to our new medical monitor", "Dr {name} joined the study team as medical monitor on {d}."),
    ), lambda r, t: {"name": r.choice(["Osei", "Lindqvist", "Moreau", "Tanaka", "Garcia"]), "d": _day(r, t, -5, 0)}),
    T("enrolment_progress", "fyi", (
        ("Enrolment progress", "We have reached {n}% of the enrolment target. Well done everyone."),
    ), lambda r, t: {"n": r.randrange(20, 95, 5)}),
    T("portal_maintenance", "fyi", (
        ("Portal maintenance on {d}", "The study portal will be unavailable on {d} between 20:00 and 22:00 CET."),
    ), lambda r, t: {"d": _day(r, t, 3, 15)}),
    T("publication_news", "fyi", (
        ("Manuscript submitted", "The primary results manuscript (draft {v}) was submitted to a journal."),
    ), lambda r, t: {"v": f"{r.randint(2, 9)}.{r.randint(0, 9)}"}),
]  # fmt: skip
HOLDOUT_WRAPPERS = {
    "reminder": (["Gentle reminder: ", "Rappel : ", "Second notice: ", "Follow-up: "],
                 ["Kindly note this is still pending.", "We have not yet heard back on the request below.", ""]),
    "forward": (["Fw: ", "FWD: ", "Re: FW: "],
                ["For your information, see the sponsor's note.", "Relaying the message from the sponsor.",
                 "Passing this along from the study sponsor."]),
}  # fmt: skip
