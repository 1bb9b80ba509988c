"""Write tests/scenarios/blind_wording_2.jsonl and .truth.json: a second hand-written triage scenario.

    .venv/bin/python tests/scenarios/blind_wording_2.py      # rewrites the committed files

Written after the triage changes that blind_wording.py drove, and scored once without tuning the
rules to it: the honest measure of wordings the engine has not seen. Other studies, senders and
styles: French and Android forward headers, "On … wrote:" quoting, "Posting on behalf of the
sponsor", "FYI:", "*** ACTION REQUIRED ***", "!!! Reminder !!!", a reminder that adds "only 2 days
left", product complaints, a new contraindication, a Hy's law case, cohort and visit look-alikes,
a DSMB arm stop, a release of vials held earlier. Ten sites in unusual zones: Kathmandu (+05:45),
St John's (-03:30), Lord Howe (30-minute DST, starts 4 October), Chatham (+12:45/+13:45), Tehran
(+03:30), Mexico City (no DST), Perth; Europe falls back on 25 October, North America on 1 November.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
START = "2026-10-19T00:00:00Z"
END = "2026-11-08T00:00:00Z"
OSP, HER, PET = "OSPREY-12", "HERON-7", "PETREL-3"
ALL = [OSP, HER, PET]

ROUTING: dict[str, Any] = {
    "chains": {"default": [{"role": "cra", "ack_within": "PT24H"}, {"role": "study_manager", "ack_within": "PT48H"},
                           {"role": "clinops_head"}]},
    "working_hours": {"start": "09:00", "end": "17:00", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"]},
}  # fmt: skip

SITES: list[dict[str, Any]] = [
    {"site_id": "S-KTM", "name": "Kathmandu Eye Research", "tz": "Asia/Kathmandu", "tier": "standard",
     "studies": [OSP, PET], "digest_times": ["09:15"], "quiet_hours": ["18:00", "08:00"]},
    {"site_id": "S-YYT", "name": "St. John's Diabetes Centre", "tz": "America/St_Johns", "tier": "preferred",
     "studies": [HER], "digest_times": ["08:30", "15:00"], "quiet_hours": ["19:00", "07:30"]},
    {"site_id": "S-LHI", "name": "Lord Howe Island Clinic", "tz": "Australia/Lord_Howe", "tier": "standard",
     "studies": [OSP], "digest_times": ["10:00"], "quiet_hours": ["17:30", "08:00"]},
    {"site_id": "S-CHT", "name": "Chatham Islands Health Centre", "tz": "Pacific/Chatham", "tier": "standard",
     "studies": [PET], "digest_times": ["09:00"], "quiet_hours": ["18:00", "08:00"]},
    {"site_id": "S-THR", "name": "Tehran Metabolic Research Unit", "tz": "Asia/Tehran", "tier": "preferred",
     "studies": [HER], "digest_times": ["09:00", "13:30"], "quiet_hours": ["20:00", "08:00"]},
    {"site_id": "S-LIS", "name": "Centro Clínico de Lisboa", "tz": "Europe/Lisbon", "tier": "strategic",
     "studies": [OSP, HER], "digest_times": ["08:30"], "quiet_hours": ["19:00", "07:00"]},
    {"site_id": "S-SEL", "name": "Seoul Clinical Trials Center", "tz": "Asia/Seoul", "tier": "strategic",
     "studies": [PET, HER], "digest_times": ["08:00", "17:00"], "quiet_hours": ["21:00", "07:00"]},
    {"site_id": "S-HFX", "name": "Halifax Research Institute", "tz": "America/Halifax", "tier": "standard",
     "studies": [OSP, PET], "digest_times": ["09:00"], "quiet_hours": ["18:00", "08:00"]},
    {"site_id": "S-MEX", "name": "Unidad de Investigación CDMX", "tz": "America/Mexico_City", "tier": "standard",
     "studies": [HER], "digest_times": ["09:30"], "quiet_hours": ["20:00", "08:00"]},
    {"site_id": "S-PER", "name": "Perth Vaccine Trials", "tz": "Australia/Perth", "tier": "preferred",
     "studies": [PET], "digest_times": ["08:00", "12:30"], "quiet_hours": ["18:00", "07:00"]},
]  # fmt: skip

PEOPLE: list[dict[str, Any]] = [
    {"person_id": "ops", "role": "clinops_head", "tz": "Europe/Amsterdam", "sites": [], "studies": ALL},
    {"person_id": "sm-osp", "role": "study_manager", "tz": "Europe/Dublin", "sites": [], "studies": [OSP]},
    {"person_id": "supply-osp", "role": "study_manager", "tz": "Europe/Dublin", "sites": [], "studies": [OSP]},
    {"person_id": "mm-osp", "role": "medical_monitor", "tz": "Europe/Dublin", "sites": [], "studies": [OSP]},
    {"person_id": "sm-her", "role": "study_manager", "tz": "America/Toronto", "sites": [], "studies": [HER]},
    {"person_id": "mm-her", "role": "medical_monitor", "tz": "America/Toronto", "sites": [], "studies": [HER]},
    {"person_id": "lead-her", "role": "cra_lead", "tz": "America/Toronto", "sites": [], "studies": [HER]},
    {"person_id": "srm-her", "role": "srm", "tz": "Europe/Lisbon", "sites": ["S-LIS", "S-THR"], "studies": [HER]},
    {"person_id": "sm-pet", "role": "study_manager", "tz": "Europe/Amsterdam", "sites": [], "studies": [PET]},
    {"person_id": "mm-pet", "role": "medical_monitor", "tz": "Europe/Amsterdam", "sites": [], "studies": [PET]},
    {"person_id": "cra-osp-eu", "role": "cra", "tz": "Europe/Lisbon", "sites": ["S-LIS"], "studies": [OSP]},
    {"person_id": "cra-osp-na", "role": "cra", "tz": "America/Halifax", "sites": ["S-HFX"], "studies": [OSP]},
    {"person_id": "cra-osp-asia", "role": "cra", "tz": "Asia/Kathmandu", "sites": ["S-KTM", "S-LHI"],
     "studies": [OSP]},
    {"person_id": "cra-her-mena", "role": "cra", "tz": "Asia/Tehran", "sites": ["S-THR"], "studies": [HER]},
    {"person_id": "cra-her-am", "role": "cra", "tz": "America/Mexico_City", "sites": ["S-YYT", "S-MEX"],
     "studies": [HER]},
    {"person_id": "cra-asia", "role": "cra", "tz": "Asia/Seoul", "sites": ["S-SEL"], "studies": [HER, PET]},
    {"person_id": "cra-pet-apac", "role": "cra", "tz": "Australia/Perth", "sites": ["S-CHT", "S-PER", "S-KTM"],
     "studies": [PET]},
    {"person_id": "cra-pet-na", "role": "cra", "tz": "America/Halifax", "sites": ["S-HFX"], "studies": [PET]},
]  # fmt: skip

PFS = (
    "Dear Investigators and Pharmacists,\n\nWe have received reports of plungers sticking in pre-filled syringes "
    "from lot OS-5521. Until the investigation is closed, kits from lot OS-5521 must be held and not administered; "
    "please use kits from other lots and report any affected syringe as a product complaint.\n\nBest regards,\n"
    "Clinical Supply, OSPREY-12"
)
NEWS = (
    "Dear OSPREY-12 teams,\n\nIn Issue {n}: {r} participants randomised, a new site in Nepal, and tips for "
    "high-quality OCT scans. Thank you for your work!\n\nThe OSPREY-12 team"
)
SURVEY = "Please complete the 10-question annual site survey by 30 October. It takes about 5 minutes."
CONTRA = (
    "Dear Investigators,\n\nThe Investigator's Brochure has been updated with a new contraindication: "
    "participants with active uveitis must not receive study drug. Please check all scheduled participants "
    "before their next injection.\n\nDr Niamh Walsh\nMedical Monitor, OSPREY-12"
)
ICF = (
    "Dear site teams,\n\nThe central EC approved ICF version 5.1 (new section on data sharing). Please re-consent "
    "all active participants at their next visit, by 30 November at the latest.\n\nKind regards,\nFiona Byrne"
)
RECALL = (
    "Dear Pharmacists,\n\nThe manufacturer of the rescue insulin pens has issued a voluntary recall of lot "
    "IP-7730. Please remove the pens from your pharmacy and from participants' kits and return them using the "
    "enclosed form.\n\nThank you,\nMark Chen\nStudy Manager, HERON-7"
)
DBL = (
    "Dear Investigators,\n\nThe interim database lock is planned for 20 November. Please resolve all open queries "
    "by 13 November.\n\nMark"
)
DSMB = (
    "Dear Investigators,\n\nAt its meeting on 27 October the DSMB recommended stopping the 40 mg arm for futility. "
    "No safety issue was identified. Participants on 40 mg should complete their current cycle and then stop "
    "study drug; each investigator will be contacted individually.\n\nDr Paul Singh"
)
LOGGER = (
    "Dear sites,\n\nSeveral sites reported temperature logger alarms on the shipment of 17 October. Please do "
    "not use the affected vials until we confirm their status; keep them at 2–8 °C and label them 'Do not "
    "use'.\n\nKind regards,\nAnouk de Vries\nStudy Manager, PETREL-3"
)
RELEASED = (
    "Dear sites,\n\nQuality Assurance has reviewed the logger data: the vials from the 17 October shipment "
    "were within range and are released for use. Please remove the 'Do not use' labels.\n\nAnouk"
)
ANA = (
    "Dear Investigators,\n\nFollowing a case of anaphylaxis after dose 2, the post-vaccination observation time "
    "is extended from 30 to 60 minutes for all participants, effective immediately.\n\nDr Lars Jansen\nMedical "
    "Monitor, PETREL-3"
)
SUSP = (
    "Dear Dr. Park,\n\nFollowing the findings of the audit at your site, enrolment at your site is suspended "
    "until the vaccination team has completed re-training. Participants already vaccinated continue their "
    "visits.\n\nAnouk de Vries"
)
NEWS_PET = (
    "Dear PETREL-3 teams,\n\nThe November newsletter: 2,140 participants vaccinated, the booster sub-study "
    "opens in January, and a profile of the Perth team.\n\nThe PETREL-3 team"
)

# (at, id, from, org, study, sites, subject, body, declared, due, truth priority, topic, duplicate_of)
U: list[tuple[Any, ...]] = [
    ("2026-10-19T08:00:00Z", "x01", "sm-osp", "sponsor", OSP, "all",
     "OSPREY-12: OCT image upload – new portal from 2 November",
     "Dear sites,\n\nFrom 2 November, OCT images are uploaded to the new ImagePoint portal. Your login will arrive "
     "by e-mail the week before.\n\nFiona Byrne\nStudy Manager, OSPREY-12", None, None, "fyi", "O-PORTAL", None),
    ("2026-10-19T10:00:00Z", "x02", "cra-osp-eu", "cro", OSP, ["S-LIS"], "New OCT portal",
     "Posting on behalf of the sponsor: from 2 November OCT images go to the new ImagePoint portal, and you'll get "
     "your login by e-mail the week before.\n\nRita", None, None, "fyi", "O-PORTAL", "x01"),
    ("2026-10-19T11:30:00Z", "x03", "sm-her", "sponsor", HER, "all", "HERON-7 | Cohort 2 dose escalation approved",
     "Dear Investigators,\n\nThe Safety Review Committee approved escalation to Cohort 2 (20 mg). Sites may start "
     "dosing Cohort 2 participants from 26 October.\n\nMark Chen", None, None, "fyi", "H-COH2", None),
    ("2026-10-19T14:00:00Z", "x04", "sm-pet", "sponsor", PET, "all",
     "PETREL-3 vaccine – temperature logger alarms after the Oct 17 shipment", LOGGER, "urgent", None, "urgent",
     "P-LOGGER", None),
    ("2026-10-19T15:10:00Z", "x05", "cra-pet-apac", "cro", PET, ["S-CHT", "S-PER"],
     "Fw: PETREL-3 vaccine – temperature logger alarms after the Oct 17 shipment",
     "Kia ora both,\n\nPls see below.\n\nTom\n\nFrom: Anouk de Vries\nSent: Monday, 19 October 2026 16:00\nTo: "
     "PETREL-3 sites\nSubject: PETREL-3 vaccine – temperature logger alarms after the Oct 17 shipment\n\n" + LOGGER,
     None, None, "urgent", "P-LOGGER", "x04"),
    ("2026-10-20T07:00:00Z", "x06", "supply-osp", "sponsor", OSP, "all",
     "Product complaint: OSPREY-12 pre-filled syringes, lot OS-5521", PFS, None, None, "urgent", "O-PFS-5521", None),
    ("2026-10-20T09:00:00Z", "x07", "cra-osp-na", "cro", OSP, ["S-HFX"],
     "TR: Product complaint: OSPREY-12 pre-filled syringes, lot OS-5521",
     "Bonjour Marie,\n\nÀ noter, ci-dessous.\n\nJulie\n\nDe : Clinical Supply\nEnvoyé : mardi 20 octobre 2026 "
     "08:02\nÀ : Sites OSPREY\nObjet : Product complaint: OSPREY-12 pre-filled syringes, lot OS-5521\n\n" + PFS,
     None, None, "urgent", "O-PFS-5521", "x06"),
    ("2026-10-20T12:00:00Z", "x08", "lead-her", "cro", HER, "all", "HERON-7 CGM sensor shortage",
     "Hello all,\n\nBecause of a supplier delay, CGM sensors will ship in reduced quantities until mid-November. "
     "Please order only what you need for the next two weeks.\n\nBest,\nGreg", None, None, "fyi", "H-CGM", None),
    ("2026-10-20T16:00:00Z", "x09", "sm-pet", "sponsor", PET, "all", "PETREL-3: IWRS helpdesk number changed",
     "Dear sites,\n\nPlease update your emergency contact sheets immediately: the IWRS helpdesk number is now "
     "+31 71 555 0199.\n\nAnouk", "urgent", None, "fyi", "P-HELPDESK", None),
    ("2026-10-21T06:00:00Z", "x10", "sm-her", "sponsor", HER, "all", "HERON-7: insulin pen recall – lot IP-7730",
     RECALL, "urgent", None, "urgent", "H-RECALL", None),
    ("2026-10-21T07:30:00Z", "x11", "cra-her-mena", "cro", HER, ["S-THR"],
     "Fwd: HERON-7: insulin pen recall – lot IP-7730",
     "Dear Dr. Karimi, please see below.\n\n---------- Forwarded message ---------\nFrom: Mark Chen "
     "<mark.chen@heron.example>\nDate: Wed, Oct 21, 2026 at 2:00 AM\nSubject: HERON-7: insulin pen recall – lot "
     "IP-7730\nTo: HERON-7 Sites\n\n" + RECALL, None, None, "urgent", "H-RECALL", "x10"),
    ("2026-10-21T08:00:00Z", "x12", "sm-osp", "sponsor", OSP, "all", "OSPREY-12 Newsletter – Issue 12",
     NEWS.format(n=12, r=212), "low", None, "fyi", "O-NEWS-12", None),
    ("2026-10-21T09:00:00Z", "x13", "cra-osp-asia", "cro", OSP, ["S-KTM", "S-LHI"],
     "*** ACTION REQUIRED *** Annual GCP survey", "Namaste!\n\n" + SURVEY + "\n\nAsha", "urgent", None, "action",
     "O-SURVEY", None),
    ("2026-10-21T15:00:00Z", "x14", "cra-her-am", "cro", HER, ["S-YYT", "S-MEX"],
     "Rescue insulin pens IP-7730 – please pull from stock",
     "Hi both,\n\nHeads-up from the sponsor: rescue insulin pens from lot IP-7730 are being recalled by the "
     "manufacturer. Please pull them from the pharmacy and from participant kits and send them back with the return "
     "form.\n\nThanks!\nCarlos", None, None, "urgent", "H-RECALL", "x10"),
    ("2026-10-22T08:00:00Z", "x15", "sm-osp", "sponsor", OSP, "all", "Visit window clarification – Visit 5",
     "Dear sites,\n\nVisit 5 may be performed within ±3 days of Day 84. Please note this in your visit planning.\n\n"
     "Fiona", None, None, "fyi", "O-VW5", None),
    ("2026-10-22T10:00:00Z", "x16", "sm-pet", "sponsor", PET, "all", "PETREL-3: vials from the 17 October shipment "
     "released", RELEASED, None, None, "fyi", "P-RELEASED", None),
    ("2026-10-22T13:00:00Z", "x17", "cra-pet-apac", "cro", PET, ["S-CHT", "S-PER"],
     "Good news: PETREL-3 vials released",
     "Hi both,\n\nQA has cleared the vials from the 17 October shipment – you can use them again and take off the "
     "labels.\n\nCheers,\nTom", None, None, "fyi", "P-RELEASED", "x16"),
    ("2026-10-23T07:00:00Z", "x18", "sm-her", "sponsor", HER, "all", "HERON-7 | Cohort 3 dose escalation approved",
     "Dear Investigators,\n\nThe Safety Review Committee approved escalation to Cohort 3 (40 mg). Sites may start "
     "dosing Cohort 3 participants from 2 November.\n\nMark Chen", None, None, "fyi", "H-COH3", None),
    ("2026-10-23T09:00:00Z", "x19", "sm-her", "sponsor", HER, "all", "HERON-7 database lock – interim analysis", DBL,
     None, None, "action", "H-DBL", None),
    ("2026-10-23T11:00:00Z", "x20", "cra-osp-asia", "cro", OSP, ["S-KTM", "S-LHI"],
     "!!! Reminder !!! Annual GCP survey – only 2 days left",
     "Only 2 days left to complete the 10-question annual site survey (deadline 30 October). Thank you!\n\nAsha",
     "urgent", None, "action", "O-SURVEY", "x13"),
    ("2026-10-24T08:00:00Z", "x21", "sm-osp", "sponsor", OSP, "all", "Visit window clarification – Visit 6",
     "Dear sites,\n\nVisit 6 may be performed within ±7 days of Day 168. Please note this in your visit planning.\n\n"
     "Fiona", None, None, "fyi", "O-VW6", None),
    ("2026-10-26T03:00:00Z", "x22", "cra-osp-asia", "cro", OSP, ["S-KTM"], "URGENT: parking for the monitoring visit",
     "Hi, just letting you know I'll park at the staff car park during my visit next week. No need to reserve "
     "anything.\n\nThanks, Asha", "urgent", None, "fyi", "O-PARK", None),
    ("2026-10-26T07:00:00Z", "x23", "mm-osp", "cro", OSP, "all", "OSPREY-12: new contraindication – please read today",
     CONTRA, None, None, "urgent", "O-CONTRA", None),
    ("2026-10-26T09:30:00Z", "x24", "cra-osp-eu", "cro", OSP, ["S-LIS"], "Nova contraindicação / new contraindication",
     "Olá equipa,\n\nThe sponsor informs that patients with active uveitis can no longer receive the study drug (new "
     "contraindication in the IB). Please check your scheduled participants before the next injection.\n\n"
     "Cumprimentos,\nRita", None, None, "urgent", "O-CONTRA", "x23"),
    ("2026-10-26T12:00:00Z", "x25", "sm-pet", "sponsor", PET, "all", "PETREL-3 – Visit 3 blood draw volume reduced",
     "Dear sites,\n\nFrom 2 November the Visit 3 blood draw is reduced from 20 mL to 12 mL. The updated lab manual "
     "v4.2 is on the portal.\n\nAnouk", None, None, "fyi", "P-V3", None),
    ("2026-10-27T06:00:00Z", "x26", "cra-asia", "cro", HER, ["S-SEL"],
     "2nd REMINDER – HERON-7 database lock – interim analysis",
     "Dear Dr. Kim,\n\nThis is the second reminder: please resolve all open queries by 13 November ahead of the "
     "interim database lock on 20 November.\n\nBest regards,\nJi-woo", None, None, "action", "H-DBL", "x19"),
    ("2026-10-27T12:00:00Z", "x27", "sm-pet", "sponsor", PET, "all", "PETREL-3 – Visit 4 blood draw volume reduced",
     "Dear sites,\n\nFrom 2 November the Visit 4 blood draw is reduced from 20 mL to 12 mL. The updated lab manual "
     "v4.2 is on the portal.\n\nAnouk", None, None, "fyi", "P-V4", None),
    ("2026-10-28T06:00:00Z", "x28", "sm-osp", "sponsor", OSP, "all", "OSPREY-12 Newsletter – Issue 13",
     NEWS.format(n=13, r=230), "low", None, "fyi", "O-NEWS-13", None),
    ("2026-10-28T08:00:00Z", "x29", "mm-her", "cro", HER, "all", "HERON-7 – DSMB recommendation", DSMB, None, None,
     "urgent", "H-DSMB", None),
    ("2026-10-28T09:15:00Z", "x30", "sm-osp", "sponsor", OSP, "all",
     "OSPREY-12: ICF version 5.1 approved – re-consent at next visit", ICF, None, None, "action", "O-ICF51", None),
    ("2026-10-28T10:00:00Z", "x31", "mm-pet", "cro", PET, "all",
     "PETREL-3: anaphylaxis case – observation time extended", ANA, "urgent", None, "urgent", "P-ANA", None),
    ("2026-10-28T13:00:00Z", "x32", "cra-pet-na", "cro", PET, ["S-HFX"], "Observation time after vaccination",
     "Bonjour Marie,\n\nSharing the sponsor's update: after an anaphylaxis case following dose 2, please keep every "
     "participant under observation for 60 minutes (previously 30) after each vaccination, starting now.\n\nMerci,"
     "\nJulie", None, None, "urgent", "P-ANA", "x31"),
    ("2026-10-29T14:00:00Z", "x33", "cra-her-am", "cro", HER, ["S-MEX"], "URGENTE: DSMB – brazo de 40 mg",
     "Hola Lucía,\n\nThe DSMB recommended stopping the 40 mg arm (futility, not safety). Participants on 40 mg finish "
     "the current cycle and then stop the study drug.\n\nSaludos,\nCarlos", "urgent", None, "urgent", "H-DSMB",
     "x29"),
    ("2026-10-29T16:00:00Z", "x34", "cra-osp-na", "cro", OSP, ["S-HFX"], "RE: OSPREY-12: ICF version 5.1 approved",
     "Hi Marie, +1 to the note below – let me know if you need the French version.\n\nOn Wed, 28 Oct 2026 at 06:15, "
     "Fiona Byrne <fiona.byrne@osprey.example> wrote:\n> " + ICF.replace("\n", "\n> "), None, None, "action",
     "O-ICF51", "x30"),
    ("2026-10-30T07:00:00Z", "x35", "srm-her", "sponsor", HER, ["S-LIS", "S-THR"], "HERON-7 Q3 2026 site payments",
     "Dear colleagues,\n\nThe Q3 2026 payments were processed on 28 October. Remittance advices are in the portal.\n"
     "\nJoana Sousa", None, None, "fyi", "H-PAY-Q3", None),
    ("2026-10-30T09:00:00Z", "x36", "cra-pet-apac", "cro", PET, ["S-KTM"], "PETREL-3 sponsor audit 24–25 November",
     "Namaste!\n\nYour site has been selected for a sponsor audit on 24–25 November. Please confirm by 6 November "
     "that the PI is available.\n\nTom", None, None, "action", "P-AUDIT-KTM", None),
    ("2026-11-02T07:00:00Z", "x37", "sm-pet", "sponsor", PET, "all", "PETREL-3 Newsletter – November 2026", NEWS_PET,
     "low", None, "fyi", "P-NEWS-NOV", None),
    ("2026-11-02T09:00:00Z", "x38", "sm-osp", "sponsor", OSP, "all",
     "OSPREY-12: ICF version 5.0 – file the superseded version",
     "Dear site teams,\n\nNow that ICF version 5.1 is approved, please file all signed ICF version 5.0 forms as "
     "superseded in the ISF by 13 November.\n\nFiona", None, None, "action", "O-ICF50", None),
    ("2026-11-02T14:00:00Z", "x39", "cra-asia", "cro", HER, ["S-SEL"], "Monitoring visit 10 November – SAE source "
     "verification", "Dear Dr. Kim,\n\nI'll be on site on 10 November to verify the source of the two SAEs reported "
     "in October and review drug accountability. Please have the medical records ready.\n\nJi-woo", None, None,
     "action", "H-MV-SEL", None),
    ("2026-11-03T05:00:00Z", "x40", "mm-osp", "cro", OSP, ["S-LHI"], "Drug-induced liver injury – participant 12-0402",
     "Dear Dr. Wilson,\n\nParticipant 12-0402 meets Hy's law criteria. Do not give the next injection and call me "
     "today.\n\nNiamh", None, None, "urgent", "O-DILI", None),
    ("2026-11-03T07:00:00Z", "x41", "cra-pet-apac", "cro", PET, ["S-CHT"], "FYI: PETREL-3 Newsletter – November 2026",
     "FYI – the November newsletter is below.\n\n" + NEWS_PET, None, None, "fyi", "P-NEWS-NOV", "x37"),
    ("2026-11-04T00:00:00Z", "x42", "sm-pet", "sponsor", PET, ["S-SEL"],
     "PETREL-3 – site enrolment suspended pending re-training", SUSP, None, None, "urgent", "P-SUSP-SEL", None),
    ("2026-11-04T08:00:00Z", "x43", "srm-her", "sponsor", HER, ["S-LIS", "S-THR"],
     "HERON-7 Q2 2026 site payments – correction",
     "Dear colleagues,\n\nA correction to the Q2 2026 payment: the screen-failure fees were missing and will be paid "
     "on 15 November.\n\nJoana Sousa", None, None, "fyi", "H-PAY-Q2", None),
    ("2026-11-05T01:00:00Z", "x44", "cra-asia", "cro", PET, ["S-SEL"],
     "Fwd: PETREL-3 – site enrolment suspended pending re-training",
     "Dear Dr. Park, please see the sponsor's letter below.\n\n-------- Original message --------\nFrom: Anouk de "
     "Vries\nDate: 2026-11-04 01:00\nSubject: PETREL-3 – site enrolment suspended pending re-training\n\n" + SUSP,
     None, None, "urgent", "P-SUSP-SEL", "x42"),
]  # fmt: skip


def build() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The scenario lines and the truth (priority, topic, duplicate_of, addressed sites) for check.py."""
    lines: list[dict[str, Any]] = [{"at": START, "type": "policy", "routing": ROUTING}]
    lines += [{"at": START, "type": "site", **s} for s in SITES]
    lines += [{"at": START, "type": "person", **p} for p in PEOPLE]
    truth: dict[str, Any] = {"updates": {}, "escalations": {}}
    for at, uid, sender, org, study, sites, subject, body, declared, due, priority, topic, dup in U:
        line: dict[str, Any] = {"at": at, "type": "update", "id": uid, "from": sender, "org": org, "study": study,
                                "sites": sites, "subject": subject, "body": body}  # fmt: skip
        if declared:
            line["declared_priority"] = declared
        if due:
            line["due"] = due
        lines.append(line)
        addressed = [s["site_id"] for s in SITES if study in s["studies"]] if sites == "all" else list(sites)
        entry: dict[str, Any] = {"priority": priority, "topic": topic, "sites": addressed}
        if dup:
            entry["duplicate_of"] = dup
        truth["updates"][uid] = entry
    lines.append({"at": END, "type": "end"})
    return lines, truth


def main() -> None:
    lines, truth = build()
    ats = [line["at"] for line in lines]
    assert ats == sorted(ats), "updates must be in time order"
    assert len({u[1] for u in U}) == len(U)
    (HERE / "blind_wording_2.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    (HERE / "blind_wording_2.truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(U)} updates, {len(SITES)} sites -> {HERE / 'blind_wording_2.jsonl'}")


if __name__ == "__main__":
    main()
