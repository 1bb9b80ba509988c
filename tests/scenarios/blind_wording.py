"""Write tests/scenarios/blind_wording.jsonl and .truth.json: a hand-written triage scenario.

    .venv/bin/python tests/scenarios/blind_wording.py      # rewrites the committed files

Every update below was written by hand, before reading how the triage rules match, in the styles
sites actually receive: "Gentle reminder:", "2nd REMINDER –", "[Resend]", "Resending in case you
missed it", "FW:", "Fwd:", "RE: FW:" with Outlook/Gmail/Apple Mail quote headers, CRO rewrites of
sponsor notes (same facts, other words, greeting and signature), look-alikes that are not repeats
(amendment 3 vs 4, another lot, another due date, another SAE case, another month's newsletter),
urgent content in unusual words, shouting mail that is not urgent, due dates only in the body, and
a CRA who marks everything urgent. The script only serialises the data and resolves "all" into
the study's sites for the truth; the judgment (priority, topic, duplicate_of) is in each entry.

Three studies, 11 sites in 11 time zones: southern-hemisphere DST ends inside the run (Sydney,
Adelaide, Auckland on 5 April; Santiago the night before), Europe springs forward on 29 March,
Sao Paulo and Phoenix have no DST, Kolkata is +05:30 and Adelaide +10:30/+09:30.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
START = "2026-03-23T00:00:00Z"
END = "2026-04-12T00:00:00Z"

ROUTING: dict[str, Any] = {
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

KES, MAR, TUN = "KESTREL-204", "MARLIN-115", "TUNDRA-330"

SITES: list[dict[str, Any]] = [
    {"site_id": "S-SYD", "name": "Sydney Thoracic & Oncology Trials Unit", "tz": "Australia/Sydney",
     "tier": "strategic",      "studies": [KES, TUN], "digest_times": ["08:00", "13:00"],
     "quiet_hours": ["18:30", "07:30"]},
    {"site_id": "S-AKL", "name": "Auckland Clinical Studies", "tz": "Pacific/Auckland", "tier": "standard",
     "studies": [KES], "digest_times": ["09:00"], "quiet_hours": ["19:00", "07:00"]},
    {"site_id": "S-ADL", "name": "Adelaide Heart Research", "tz": "Australia/Adelaide", "tier": "preferred",
     "studies": [MAR], "digest_times": ["08:30", "16:00"], "quiet_hours": ["20:00", "07:00"]},
    {"site_id": "S-BLR", "name": "Bengaluru Institute of Clinical Research", "tz": "Asia/Kolkata", "tier": "preferred",
     "studies": [KES, MAR], "digest_times": ["10:00"], "quiet_hours": ["19:30", "08:30"]},
    {"site_id": "S-MUC", "name": "Studienzentrum München", "tz": "Europe/Berlin", "tier": "strategic",
     "studies": [KES], "digest_times": ["08:00"], "quiet_hours": ["18:00", "07:00"]},
    {"site_id": "S-HEL", "name": "Helsinki Lung Research Clinic", "tz": "Europe/Helsinki", "tier": "standard",
     "studies": [TUN], "digest_times": ["09:30", "15:30"], "quiet_hours": ["17:00", "08:00"]},
    {"site_id": "S-JNB", "name": "Johannesburg Clinical Trials Centre", "tz": "Africa/Johannesburg",
     "tier": "standard", "studies": [MAR, TUN], "digest_times": ["08:00"], "quiet_hours": ["18:00", "06:30"]},
    {"site_id": "S-TOR", "name": "Toronto Research Hospital", "tz": "America/Toronto", "tier": "strategic",
     "studies": [KES, TUN], "digest_times": ["08:45", "14:00"], "quiet_hours": ["19:00", "07:00"]},
    {"site_id": "S-PHX", "name": "Phoenix Cardiology Trials", "tz": "America/Phoenix", "tier": "standard",
     "studies": [MAR], "digest_times": ["07:30"], "quiet_hours": ["21:00", "06:00"]},
    {"site_id": "S-SAO", "name": "Centro de Pesquisa Clínica São Paulo", "tz": "America/Sao_Paulo",
     "tier": "preferred", "studies": [KES, MAR], "digest_times": ["09:00", "14:30"], "quiet_hours": ["19:00", "07:30"]},
    {"site_id": "S-SCL", "name": "Centro de Investigación Santiago", "tz": "America/Santiago", "tier": "standard",
     "studies": [MAR, TUN], "digest_times": ["08:30"], "quiet_hours": ["20:00", "07:00"]},
]  # fmt: skip

ALL_STUDIES = [KES, MAR, TUN]
PEOPLE: list[dict[str, Any]] = [
    {"person_id": "clinops-1", "role": "clinops_head", "tz": "America/New_York", "sites": [], "studies": ALL_STUDIES},
    {"person_id": "sm-kes", "role": "study_manager", "tz": "Europe/London", "sites": [], "studies": [KES]},
    {"person_id": "supply-kes", "role": "study_manager", "tz": "Europe/Dublin", "sites": [], "studies": [KES]},
    {"person_id": "sm-mar", "role": "study_manager", "tz": "America/Chicago", "sites": [], "studies": [MAR]},
    {"person_id": "supply-mar", "role": "study_manager", "tz": "Asia/Singapore", "sites": [], "studies": [MAR]},
    {"person_id": "sm-tun", "role": "study_manager", "tz": "Europe/Helsinki", "sites": [], "studies": [TUN]},
    {"person_id": "mm-kes", "role": "medical_monitor", "tz": "Europe/Madrid", "sites": [], "studies": [KES]},
    {"person_id": "mm-mar", "role": "medical_monitor", "tz": "America/Chicago", "sites": [], "studies": [MAR]},
    {"person_id": "mm-tun", "role": "medical_monitor", "tz": "Europe/Stockholm", "sites": [], "studies": [TUN]},
    {"person_id": "lead-1", "role": "cra_lead", "tz": "Asia/Singapore", "sites": [], "studies": ALL_STUDIES},
    {"person_id": "lead-am", "role": "cra_lead", "tz": "America/Toronto", "sites": [], "studies": ALL_STUDIES},
    {"person_id": "cra-anz", "role": "cra", "tz": "Australia/Sydney", "sites": ["S-SYD", "S-AKL", "S-ADL"],
     "studies": ALL_STUDIES},
    {"person_id": "cra-in", "role": "cra", "tz": "Asia/Kolkata", "sites": ["S-BLR"], "studies": [KES, MAR]},
    {"person_id": "cra-eu", "role": "cra", "tz": "Europe/Berlin", "sites": ["S-MUC", "S-HEL"], "studies": [KES, TUN]},
    {"person_id": "cra-za", "role": "cra", "tz": "Africa/Johannesburg", "sites": ["S-JNB"], "studies": [MAR, TUN]},
    {"person_id": "cra-na", "role": "cra", "tz": "America/Toronto", "sites": ["S-TOR", "S-PHX"],
     "studies": ALL_STUDIES},
    {"person_id": "cra-latam", "role": "cra", "tz": "America/Sao_Paulo", "sites": ["S-SAO", "S-SCL"],
     "studies": ALL_STUDIES},
    {"person_id": "srm-emea", "role": "srm", "tz": "Europe/London", "sites": ["S-MUC", "S-HEL", "S-JNB"],
     "studies": ALL_STUDIES},
]  # fmt: skip

# ---------------------------------------------------------------- bodies quoted again later
AM3 = """Dear Investigators and Study Coordinators,

We are pleased to inform you that Protocol Amendment 3 (protocol version 4.0, dated 02 March 2026) has been \
approved by the competent authorities in all participating countries.

Key changes:
- A 12-lead ECG is added at Cycle 3 Day 1.
- Survival follow-up is extended from 24 to 36 months.
- Exclusion criterion 14 (prior anti-PD-1 therapy) is clarified.

Please submit the amendment package to your ethics committee and send the submission confirmation to your CRA \
by 10 April 2026. Do not implement the new procedures before local approval.

Kind regards,
Hannah Clarke
Global Study Manager, KESTREL-204
Northwind Oncology Ltd"""

ECRF = """Dear site teams,

The interim analysis data cut is on 31 March 2026. Please make sure that all visit data up to and including \
31 March are entered in the eCRF, and that all queries raised before 27 March are answered, no later than COB \
Friday 10 April.

Thank you for your continued support.

Best regards,
Robert Nguyen
Study Manager, MARLIN-115 | Calder Cardio Therapeutics"""

LOT_0917 = """Dear Pharmacists and Investigators,

A stability test of lot KB-24-0917 returned an out-of-specification result for assay. As a precaution, please \
do not dispense kits from lot KB-24-0917 until further notice.

1. Move all kits from this lot to a segregated, labelled area and keep them at 2–8 °C.
2. Set the kits to 'Quarantined' in IWRS; the system will assign kits from other lots.
3. Reply to this message with the number of kits on hand.

Participants who have already received kits from this lot may continue their current cycle; no safety concern \
has been identified.

Clinical Supply Team
Northwind Oncology"""

SAE_0217 = """Thank you for the initial report of SAE case MAR-0217 (hospitalisation for atrial fibrillation). To \
complete the assessment, please provide the discharge summary, the ECG from admission and the updated \
concomitant medications within 5 business days, via the safety portal."""

HALT = """Dear Investigators,

Effective immediately, recruitment into MARLIN-115 is temporarily halted while the Data Monitoring Committee \
reviews an imbalance in major bleeding events between treatment arms.

- Do not consent, screen or randomise any new patient.
- Patients in screening: do not randomise; keep them informed and await further instructions.
- Randomised participants continue study treatment and visits per protocol.

We will inform you as soon as the DMC has completed its review.

Robert Nguyen
Study Manager, MARLIN-115"""

PHARM = """Dear Pharmacists,

Pharmacy Manual version 6.0 is now available in the document portal. Changes: infusion bag stability at room \
temperature extended to 8 hours; new section on handling of damaged vials.

Please ensure that every pharmacist on the delegation log completes the read-and-acknowledge in the training \
portal within 5 business days of this message.

Best regards,
Hannah Clarke"""

NEWS_MAR = """Hello KESTREL-204 teams,

Welcome to the March issue! Highlights:
• 148 participants randomised across 37 sites – thank you!
• Top recruiter in February: Toronto Research Hospital (6 participants).
• Good practice: please file the tumour assessment source documents within 5 days of the scan.
• Meet the team: our new data manager, Luis Ferreira.

Have a great month,
The KESTREL-204 CRO team
Meridian Clinical"""

EPRO = """Dear study coordinators,

The ePRO device software will update to questionnaire version 2.1 (corrected Swedish and Afrikaans \
translations) on 1 April. Please sync every site-held device and every participant device at the next contact, \
and confirm in the site portal that all devices are on v2.1 no later than 15 April 2026.

Best regards,
Aino Virtanen
Clinical Study Manager, TUNDRA-330"""

QT = """Dear Investigator,

Three cases of QTc prolongation above 500 ms, one with torsades de pointes, have been reported with \
velmarotide. As an urgent safety measure, effective immediately:

1. Perform a triplicate 12-lead ECG before each dose.
2. Withhold study drug if QTcF exceeds 500 ms or increases by more than 60 ms from baseline, and contact the \
medical monitor.
3. Review concomitant medications for QT-prolonging drugs.

A protocol amendment will follow. Please file this letter in the Investigator Site File and inform your ethics \
committee.

Dr Carlos Medina
Medical Monitor, MARLIN-115, on behalf of Calder Cardio Therapeutics"""

COURIER = """Dear sites,

Our central laboratory courier will not collect samples from Friday 3 April to Monday 6 April. Please avoid \
scheduling visits with PK sampling from Thursday 2 April afternoon through Monday 6 April, or store the samples \
frozen at -20 °C and ship them on Tuesday 7 April.

Best regards,
Aino"""

OOS_7782 = """Dear Pharmacists,

The Singapore regional depot recorded an out-of-specification temperature (up to 31 °C for 9 hours) affecting \
lot MR-7782. Kits from this lot shipped to sites after 20 March may be affected.

Until our Quality Assurance releases the lot, please do not dispense kits from lot MR-7782: keep them in \
quarantine at 15–25 °C and mark them 'Quarantined' in IRT. Kits from other lots can be dispensed as usual.

Clinical Supply Team
Calder Cardio Therapeutics"""

FSN = """Dear Investigators and Pharmacists,

The device manufacturer has issued a field safety notice: some inhalers from device batch DV-3312 may deliver \
less than the labelled dose because of a faulty dose counter.

- Stop using inhalers from batch DV-3312 immediately; do not hand them out.
- Contact participants who received a DV-3312 inhaler and exchange it at an unscheduled visit within 48 hours.
- Record each exchange in IRT.

Replacement devices (batch DV-3340) are being shipped today.

Aino Virtanen, on behalf of Borealis Respiratory"""

DEATH = """Dear Investigators,

A participant death due to fulminant hepatitis has been reported in KESTREL-204 (case KES-2026-0052). The causal \
relationship is under evaluation and the DSMB will meet on 9 April.

Until the DSMB has reviewed the case, please:
- check ALT, AST and bilirubin within 72 hours before every dose, for every participant on treatment;
- withhold the dose and call the medical monitor if ALT or AST is above 3 × ULN.

Please confirm receipt of this instruction to your CRA today.

Dr. Marta Ruiz
Medical Monitor, KESTREL-204"""

RESUME = """Dear Investigators,

The Data Monitoring Committee has completed its review of bleeding events and recommended that MARLIN-115 \
continue without modification. Recruitment may resume: you can consent, screen and randomise new patients \
again, effective immediately.

Thank you for your patience.

Robert Nguyen"""

HOLD = """Dear Dr Patel,

Today the FDA placed the MARLIN-115 IND on clinical hold following the QTc cases. Effective immediately, at US \
sites:
- stop dosing all participants;
- continue safety follow-up visits as per the Schedule of Assessments;
- do not screen or randomise.

We will send a detailed Q&A later today.

Robert Nguyen
Study Manager, MARLIN-115"""

SPIRO = """Dear sites,

Following the over-read findings in Q1, every spirometry technician must complete the 30-minute re-training \
module on the ATS/ERS acceptability and repeatability criteria in the training portal. Please complete it by \
24 April.

Kind regards,
Aino Virtanen"""

FINAL_AM3 = """Dear Investigators,

Final reminder: if you have not done so yet, please send the ethics committee submission confirmation for \
Protocol Amendment 3 (v4.0) to your CRA by 10 April 2026.

Thank you,
Hannah"""

MAR_AM4 = """Dear Investigators,

Protocol Amendment 4 (MARLIN-115 protocol version 4.0) makes the QTc monitoring introduced by the urgent safety \
measure of 30 March part of the protocol and adds an ECG at the end-of-treatment visit. Please submit it to your \
ethics committee and upload the submission letter to the eISF by 30 April 2026.

Regards,
Robert Nguyen"""

CONTACTS = """Hi Olivia,

Could you please send me your updated site contact list (PI, sub-Is, study coordinators and the back-up \
pharmacist) by 2 April? The sponsor is refreshing the study directory for the Q2 mailing.

Cheers,
Liam O'Connor
CRA – Meridian Clinical (Sydney)"""


def outlook(sender: str, sent: str, to: str, subject: str) -> str:
    return f"From: {sender}\nSent: {sent}\nTo: {to}\nSubject: {subject}\n\n"


# (at, id, from, org, study, sites, subject, body, declared, due, truth priority, topic, duplicate_of)
U: list[tuple[Any, ...]] = [
    ("2026-03-23T06:30:00Z", "w01", "srm-emea", "sponsor", KES, "all", "KESTREL-204: Q1 2026 site payment run",
     "Dear colleagues,\n\nThe Q1 2026 payments for visits completed up to 28 February were processed on 20 March. "
     "Remittance advices are available in the site payments portal. If you notice a discrepancy, please contact "
     "site-payments@northwind-onc.example within 30 days.\n\nKind regards,\nSarah Mitchell\nSite Relationship "
     "Manager", None, None, "fyi", "K-PAY", None),
    ("2026-03-23T08:15:00Z", "w02", "sm-kes", "sponsor", KES, "all",
     "KESTREL-204 | Protocol Amendment 3 (v4.0) – implementation at sites", AM3, "normal", None, "action", "K-AM3",
     None),
    ("2026-03-23T13:40:00Z", "w03", "sm-mar", "sponsor", MAR, "all",
     "MARLIN-115: eCRF data entry for the interim analysis", ECRF, None, None, "action", "M-ECRF-0410", None),
    ("2026-03-23T15:10:00Z", "w04", "cra-latam", "cro", MAR, ["S-SAO", "S-SCL"],
     "URGENT!!! MARLIN-115 – recruitment leaderboard and newsletter",
     "Olá equipes / Hola equipos!\n\nGreat news: Latin America is now the top recruiting region in MARLIN-115 with "
     "42 participants! Check the attached leaderboard and our regional newsletter with photos from the "
     "investigator meeting in Lima.\n\nKeep up the great work!!!\nAbraços,\nAna Souza\nSenior CRA – Meridian "
     "Clinical", "urgent", None, "fyi", "M-LATAM-NEWS", None),
    ("2026-03-23T22:30:00Z", "w05", "sm-tun", "sponsor", TUN, "all",
     "TUNDRA-330 – Investigator Meeting 2026: save the date",
     "Dear TUNDRA-330 investigators,\n\nPlease save the date for our second Investigator Meeting, which will take "
     "place in Lisbon on 18–19 June 2026. Registration details and the agenda will follow in May. Travel will be "
     "arranged by our meeting agency.\n\nWith best wishes,\nAino Virtanen\nClinical Study Manager, TUNDRA-330\n"
     "Borealis Respiratory Oy", None, None, "fyi", "T-IM", None),
    ("2026-03-24T07:45:00Z", "w06", "lead-1", "cro", KES, "all",
     "FW: KESTREL-204 | Protocol Amendment 3 (v4.0) – implementation at sites",
     "Hi all,\n\nPlease see below from the sponsor. Your CRA will follow up with the EC submission package this "
     "week.\n\nThanks,\nMeera\n\nMeera Pillai | Clinical Research Lead, APAC & EMEA\nMeridian Clinical\n\n"
     + outlook("Hannah Clarke <hannah.clarke@northwind-onc.example>", "Monday, March 23, 2026 8:15 AM",
               "KESTREL-204 Sites <kestrel204-sites@northwind-onc.example>",
               "KESTREL-204 | Protocol Amendment 3 (v4.0) – implementation at sites") + AM3,
     None, None, "action", "K-AM3", "w02"),
    ("2026-03-24T09:00:00Z", "w07", "supply-kes", "sponsor", KES, "all",
     "ACTION REQUIRED: KESTREL-204 – do not dispense kits from lot KB-24-0917", LOT_0917, "urgent", None,
     "urgent", "K-LOT-0917", None),
    ("2026-03-24T09:40:00Z", "w08", "cra-anz", "cro", KES, ["S-SYD", "S-AKL"],
     "Fwd: ACTION REQUIRED: KESTREL-204 – do not dispense kits from lot KB-24-0917",
     "Hi both, forwarding in case this went to your spam folder – please action tonight / first thing tomorrow."
     "\n\nCheers,\nLiam\n\n---------- Forwarded message ---------\nFrom: Clinical Supply Team "
     "<supply@northwind-onc.example>\nDate: Tue, 24 Mar 2026 at 20:00\nSubject: ACTION REQUIRED: KESTREL-204 – do "
     "not dispense kits from lot KB-24-0917\nTo: <kestrel204-sites@northwind-onc.example>\n\n" + LOT_0917,
     None, None, "urgent", "K-LOT-0917", "w07"),
    ("2026-03-24T11:20:00Z", "w09", "cra-in", "cro", KES, ["S-BLR"],
     "KESTREL-204: lot KB-24-0917 on hold at your pharmacy",
     "Dear Dr. Rao and team,\n\nThe sponsor has informed us that lot KB-24-0917 showed an out-of-specification "
     "assay result in stability testing. Kindly do not dispense any kit from this lot until further notice: "
     "please keep them segregated at 2–8 °C, mark them as quarantined in IWRS and let me know how many kits you "
     "hold.\n\nWarm regards,\nArjun Mehta\nCRA, Meridian Clinical (Bengaluru)", None, None, "urgent",
     "K-LOT-0917", "w07"),
    ("2026-03-24T12:00:00Z", "w10", "mm-tun", "cro", TUN, "all",
     "New SAE form in the EDC from 20 April – training by 17 April",
     "Dear sites,\n\nA new version of the SAE report form (with a structured narrative section) goes live in the "
     "TUNDRA-330 EDC on 20 April. Everyone on the delegation log who enters SAEs must complete the 15-minute "
     "e-learning by 17 April. The reporting timelines (24 hours for initial reports) do not change.\n\nBest "
     "regards,\nDr Erik Lind\nMedical Monitor, TUNDRA-330", None, None, "action", "T-SAE-FORM", None),
    ("2026-03-24T14:05:00Z", "w11", "mm-mar", "cro", MAR, ["S-ADL"],
     "SAE case MAR-0217 – follow-up information requested",
     "Dear Dr Harris,\n\n" + SAE_0217 + "\n\nRegards,\nDr Carlos Medina\nMedical Monitor, MARLIN-115\n"
     "Meridian Clinical", None, None, "action", "M-SAE-0217", None),
    ("2026-03-24T16:30:00Z", "w12", "sm-tun", "sponsor", TUN, "all",
     "IMPORTANT: holiday schedule – central spirometry over-read over Easter",
     "Dear sites,\n\nPlease note that the central spirometry over-read service (PulmoRead) will operate with "
     "reduced staff from Friday 3 April to Monday 6 April. Sessions uploaded in that period will be over-read by "
     "Wednesday 8 April. No action is needed from you; please continue to upload as usual.\n\nKind regards,\n"
     "Aino", None, None, "fyi", "T-HOLIDAY", None),
    ("2026-03-25T06:10:00Z", "w13", "sm-mar", "sponsor", MAR, "all", "MARLIN-115: temporary halt to recruitment",
     HALT, "urgent", None, "urgent", "M-HALT", None),
    ("2026-03-25T07:35:00Z", "w14", "lead-am", "cro", MAR, "all",
     "RE: FW: MARLIN-115: temporary halt to recruitment",
     "All,\n\nPlease see below from the sponsor. Please confirm receipt to your CRA and make sure your whole team "
     "(including sub-investigators) is aware that no new patient can be screened until further notice.\n\nBest,\n"
     "Daniel Ortiz\nClinical Team Lead – Americas | Meridian Clinical\n\n-----Original Message-----\n"
     + outlook("Robert Nguyen", "Wednesday, March 25, 2026 1:10 AM", "MARLIN-115 Investigators",
               "MARLIN-115: temporary halt to recruitment") + HALT, None, None, "urgent", "M-HALT", "w13"),
    ("2026-03-25T09:00:00Z", "w15", "cra-latam", "cro", MAR, ["S-SAO", "S-SCL"],
     "URGENTE – MARLIN-115 recruitment paused",
     "Hi team,\n\nThe sponsor has paused recruitment in MARLIN-115 while the DMC looks at the bleeding events. "
     "From now on please do not consent, screen or randomise new patients. Patients already randomised stay on "
     "treatment and keep their visits as planned.\n\nI'll let you know as soon as we hear back.\n\nObrigada,\nAna",
     "urgent", None, "urgent", "M-HALT", "w13"),
    ("2026-03-25T10:15:00Z", "w16", "sm-kes", "sponsor", KES, "all",
     "KESTREL-204: updated Pharmacy Manual v6.0 – read and acknowledge", PHARM, None, None, "action",
     "K-PHARM-MAN", None),
    ("2026-03-25T13:00:00Z", "w17", "cra-eu", "cro", KES, ["S-MUC"], "Amendment 3 – what it means for your site",
     "Dear Dr. Weber, dear Ms. Schmidt,\n\nFollowing up on the sponsor's note about Protocol Amendment 3 (version "
     "4.0): the main changes for you are the extra 12-lead ECG at Cycle 3 Day 1, survival follow-up extended to 36 "
     "months, and a clarified exclusion criterion 14 on prior anti-PD-1 therapy.\n\nPlease submit the package to "
     "your Ethikkommission and send me the submission confirmation by 10 April 2026. As usual, no new procedure "
     "before local approval.\n\nViele Grüße,\nJonas Becker\nClinical Research Associate | Meridian Clinical GmbH",
     None, None, "action", "K-AM3", "w02"),
    ("2026-03-25T15:40:00Z", "w18", "cra-na", "cro", MAR, ["S-PHX"], "Monitoring visit 8–9 April – please confirm",
     "Hi Jessica,\n\nI'd like to schedule an on-site monitoring visit for Wednesday 8 and Thursday 9 April. During "
     "the visit I will review SAE reports, drug accountability, the temperature logs of the pharmacy fridge and "
     "the source for participants 115-4402 to 115-4409.\n\nCould you please confirm by 2 April that Dr Patel is "
     "available for 30 minutes on 9 April and that a room with EDC access is booked?\n\nThanks!\nEmily Chen\nCRA, "
     "Meridian Clinical", None, None, "action", "M-MV-PHX", None),
    ("2026-03-25T20:50:00Z", "w19", "cra-anz", "cro", TUN, ["S-SYD"], "ASAP: please update your contact list",
     CONTACTS, None, None, "action", "T-CONTACT-SYD", None),
    ("2026-03-26T07:00:00Z", "w20", "sm-mar", "sponsor", MAR, "all", "MARLIN-115 – DSUR 2025 available",
     "Dear Investigators,\n\nThe Development Safety Update Report (DSUR) for 2025 is now available on the study "
     "portal. No new safety concerns were identified and the Reference Safety Information is unchanged. Please "
     "file it in the Investigator Site File and submit it to your ethics committee where local rules require it."
     "\n\nRegards,\nRobert Nguyen", None, None, "fyi", "M-DSUR", None),
    ("2026-03-26T09:15:00Z", "w21", "mm-kes", "cro", KES, ["S-TOR"], "SAE case KES-2026-0041 – query on causality",
     "Dear Dr. Lambert,\n\nFor SAE case KES-2026-0041 (febrile neutropenia), the investigator's causality "
     "assessment is missing in the SAE form. Please complete it and sign the form in the EDC within 2 business "
     "days.\n\nMany thanks,\nDr. Marta Ruiz\nMedical Monitor, KESTREL-204", None, None, "action", "K-SAE-0041",
     None),
    ("2026-03-26T11:00:00Z", "w22", "supply-mar", "sponsor", MAR, "all",
     "MARLIN-115 – IRT scheduled downtime, Saturday 28 March",
     "Dear all,\n\nThe IRT will be unavailable for scheduled maintenance on Saturday 28 March 2026 from 01:00 to "
     "05:00 UTC. Randomisation, kit assignment and drug returns cannot be recorded in that window. Emergency "
     "unblinding stays available 24/7 through the IRT helpdesk (+1 800 555 0199).\n\nPlease plan dispensing "
     "visits accordingly.\n\nClinical Supply Team", None, None, "fyi", "M-IRT-DOWN", None),
    ("2026-03-26T13:20:00Z", "w23", "cra-za", "cro", MAR, ["S-JNB"], "Cold-chain breach – shipment MAR-SHP-5531",
     "Dear Thandi,\n\nThe temperature logger of shipment MAR-SHP-5531, received at your pharmacy yesterday, shows "
     "a cold-chain breach: 31 °C for about 3 hours during transit (label: store at 15–25 °C). Please keep all 24 "
     "kits of this shipment in quarantine, do not allocate them to participants, and upload the logger file to "
     "the IRT excursion module. The sponsor's quality team will assess and confirm whether the kits can be used."
     "\n\nKind regards,\nSipho Dlamini\nCRA | Meridian Clinical South Africa", "urgent", None, "urgent",
     "M-CCB-5531", None),
    ("2026-03-26T15:00:00Z", "w24", "cra-latam", "cro", KES, ["S-SAO"],
     "URGENT – KESTREL-204 monthly enrolment figures",
     "Hi Beatriz,\n\nPlease find the enrolment figures for March: your site has screened 5 and randomised 3 "
     "participants. Brazil is now at 19 randomised. Great job!\n\nAbraços,\nAna", "urgent", None, "fyi",
     "K-SAO-ENROL", None),
    ("2026-03-26T22:10:00Z", "w25", "sm-tun", "sponsor", TUN, "all", "TUNDRA-330: Updated ePRO questionnaire (v2.1)",
     EPRO, None, None, "action", "T-EPRO", None),
    ("2026-03-27T07:30:00Z", "w26", "lead-1", "cro", KES, "all", "KESTREL-204 Study Newsletter – March 2026",
     NEWS_MAR, "low", None, "fyi", "K-NEWS-MAR", None),
    ("2026-03-27T08:10:00Z", "w27", "sm-kes", "sponsor", KES, "all",
     "KESTREL-204 | Protocol Amendment 4 (v5.0) – administrative changes",
     "Dear Investigators and Study Coordinators,\n\nProtocol Amendment 4 (protocol version 5.0, dated 20 March "
     "2026) has been finalised. It is an administrative amendment: the PK sample at Cycle 4 Day 1 is removed and "
     "the sponsor's medical monitor contact details are updated.\n\nPlease submit the amendment to your ethics "
     "committee for notification and send the confirmation to your CRA by 24 April 2026.\n\nKind regards,\n"
     "Hannah Clarke\nGlobal Study Manager, KESTREL-204", "normal", None, "action", "K-AM4", None),
    ("2026-03-27T09:45:00Z", "w28", "sm-mar", "sponsor", MAR, "all", "Please note: sponsor office closed over Easter",
     "Dear sites,\n\nPlease note that the Calder Cardio office will be closed on Friday 3 April and Monday 6 April. "
     "The medical monitor remains reachable through the 24-hour safety line.\n\nHappy Easter,\nRobert", None, None,
     "fyi", "M-EASTER", None),
    ("2026-03-27T12:00:00Z", "w29", "cra-latam", "cro", MAR, ["S-SCL"], "URGENT: Santiago – GCP certificates expiring",
     "Hola Camila,\n\nTwo GCP certificates on your delegation log expire on 30 April (Dr. Fuentes and Ms. Rojas). "
     "Please upload the renewed certificates to the eISF by 24 April.\n\nSaludos,\nAna", "urgent", None, "action",
     "M-GCP-SCL", None),
    ("2026-03-27T14:30:00Z", "w30", "mm-tun", "cro", TUN, "all", "Quarterly SAE reconciliation – TUNDRA-330",
     "Dear sites,\n\nAs part of the quarterly SAE reconciliation, your CRA will compare the SAE forms in the EDC "
     "with the safety database at the next visit. Please make sure all SAE follow-up reports received up to 31 "
     "March are entered in the EDC by 17 April.\n\nThank you,\nDr Erik Lind", None, None, "action",
     "T-SAE-RECON", None),
    ("2026-03-27T18:00:00Z", "w31", "sm-mar", "sponsor", MAR, "all",
     "MARLIN-115: eCRF data entry – deadline extended to 17 April",
     "Dear site teams,\n\nBecause of the Easter holidays, the deadline for entering all visit data up to 31 March "
     "and answering queries raised before 27 March is extended: the new deadline is COB Friday 17 April 2026.\n\n"
     "Best regards,\nRobert Nguyen", None, None, "action", "M-ECRF-0417", None),
    ("2026-03-28T00:20:00Z", "w32", "cra-anz", "cro", KES, ["S-SYD", "S-AKL"],
     "Gentle reminder: Pharmacy Manual v6.0 read & acknowledge",
     "Hi team,\n\nGentle reminder that the read-and-acknowledge for Pharmacy Manual v6.0 is still open for some of "
     "your pharmacists. The sponsor's note is below.\n\nCheers,\nLiam\n\n"
     "> Pharmacy Manual version 6.0 is now available in the document portal. Changes: infusion bag stability at "
     "room temperature extended to 8 hours; new section on handling of damaged vials.\n> Please ensure that every "
     "pharmacist on the delegation log completes the read-and-acknowledge in the training portal within 5 "
     "business days of this message.", None, None, "action", "K-PHARM-MAN", "w16"),
    ("2026-03-30T02:30:00Z", "w33", "mm-mar", "cro", MAR, ["S-ADL"],
     "SAE case MAR-0223 – follow-up information requested",
     "Dear Dr Harris,\n\nThank you for the initial report of SAE case MAR-0223 (hospitalisation for syncope). To "
     "complete the assessment, please provide the discharge summary, the Holter report and the updated "
     "concomitant medications within 5 business days, via the safety portal.\n\nRegards,\nDr Carlos Medina\n"
     "Medical Monitor, MARLIN-115\nMeridian Clinical", None, None, "action", "M-SAE-0223", None),
    ("2026-03-30T06:00:00Z", "w34", "mm-mar", "cro", MAR, "all",
     "Dear Investigator letter — urgent safety measure (QTc monitoring)", QT, "urgent", None, "urgent",
     "M-USM-QT", None),
    ("2026-03-30T07:00:00Z", "w35", "supply-kes", "sponsor", KES, "all",
     "KESTREL-204 – do not dispense kits from lot KB-25-0112",
     "Dear Pharmacists and Investigators,\n\nA labelling error was found on lot KB-25-0112: the outer carton shows "
     "an expiry date of 11/2027 instead of 11/2026. Please do not dispense kits from lot KB-25-0112 until they "
     "are relabelled; keep them segregated at 2–8 °C and set them to 'Quarantined' in IWRS. A relabelling team "
     "will contact your pharmacy.\n\nClinical Supply Team\nNorthwind Oncology", "urgent", None, "urgent",
     "K-LOT-0112", None),
    ("2026-03-30T07:15:00Z", "w36", "cra-latam", "cro", MAR, ["S-SAO", "S-SCL"],
     "Importante: Dear Investigator Letter QTc – MARLIN-115",
     "Hi team,\n\nSharing the sponsor's Dear Investigator Letter: following cases of QTc prolongation (one with "
     "torsades de pointes), from today a triplicate ECG is required before every dose, the drug must be held if "
     "QTcF goes above 500 ms or rises more than 60 ms from baseline (call the medical monitor), and con-meds must "
     "be checked for QT-prolonging drugs. Please put the letter in the ISF and notify your EC.\n\nObrigada,\nAna",
     "urgent", None, "urgent", "M-USM-QT", "w34"),
    ("2026-03-30T08:00:00Z", "w37", "cra-latam", "cro", MAR, ["S-SAO", "S-SCL"],
     "2nd REMINDER – MARLIN-115: eCRF data entry for the interim analysis",
     "2nd reminder!! Please see the sponsor's request below – only two weeks left.\n\nAna\n\n"
     + outlook("Robert Nguyen", "Monday, 23 March 2026 10:40", "MARLIN-115 Sites",
               "MARLIN-115: eCRF data entry for the interim analysis") + ECRF, "urgent", None, "action",
     "M-ECRF-0410", "w03"),
    ("2026-03-30T09:00:00Z", "w38", "lead-1", "cro", KES, "all", "[Resend] KESTREL-204 Study Newsletter – March 2026",
     "Resending as the link to the recordings in the previous email did not work. Apologies!\n\n" + NEWS_MAR,
     "low", None, "fyi", "K-NEWS-MAR", "w26"),
    ("2026-03-30T10:30:00Z", "w39", "sm-tun", "sponsor", TUN, "all",
     "TUNDRA-330: no sample pick-ups over Easter (3–6 April)", COURIER, None, None, "fyi", "T-COURIER", None),
    ("2026-03-30T12:00:00Z", "w40", "cra-za", "cro", TUN, ["S-JNB"], "Courier – Easter closure",
     "Hi Thandi,\n\nHeads-up from the sponsor: the lab courier does not collect between Good Friday 3 April and "
     "Easter Monday 6 April. If a PK visit falls in that window, freeze the samples at -20 °C and ship them on "
     "Tuesday 7 April.\n\nRegards,\nSipho", None, None, "fyi", "T-COURIER", "w39"),
    ("2026-03-30T14:00:00Z", "w41", "cra-in", "cro", MAR, ["S-BLR"],
     "MARLIN-115: delegation log – new sub-investigator",
     "Dear Dr. Rao,\n\nDr. Kavya Iyer has started working on MARLIN-115 at your site. Kindly add her to the "
     "delegation log, have the PI sign the entry and upload her CV and GCP certificate to the eISF within 5 "
     "business days.\n\nThanks and regards,\nArjun", None, None, "action", "M-DELEG-BLR", None),
    ("2026-03-31T05:00:00Z", "w42", "supply-mar", "sponsor", MAR, "all",
     "Out-of-specification temperature at regional depot – MARLIN-115 lot MR-7782", OOS_7782, "urgent", None,
     "urgent", "M-OOS-7782", None),
    ("2026-03-31T06:30:00Z", "w43", "cra-anz", "cro", MAR, ["S-ADL"],
     "FW: Out-of-specification temperature at regional depot – MARLIN-115 lot MR-7782",
     "Hi Grace, please check your pharmacy for kits from lot MR-7782 – see below.\n\nLiam\n\nBegin forwarded "
     "message:\n\nFrom: Clinical Supply Team <supply@calder-cardio.example>\nSubject: Out-of-specification "
     "temperature at regional depot – MARLIN-115 lot MR-7782\nDate: 31 March 2026 at 4:00:00 pm AEDT\nTo: "
     "MARLIN-115 Pharmacists\n\n" + OOS_7782, None, None, "urgent", "M-OOS-7782", "w42"),
    ("2026-03-31T09:30:00Z", "w44", "mm-mar", "cro", MAR, ["S-ADL"],
     "Resending in case you missed it: SAE case MAR-0217 – follow-up information requested",
     "Dear Dr Harris,\n\nResending in case you missed it – we have not yet received the follow-up for SAE case "
     "MAR-0217.\n\n" + SAE_0217 + "\n\nRegards,\nDr Carlos Medina", None, None, "action", "M-SAE-0217", "w11"),
    ("2026-03-31T10:00:00Z", "w45", "cra-eu", "cro", KES, ["S-MUC"], "Temperature logs for March",
     "Hallo Frau Schmidt,\n\nplease upload the pharmacy fridge temperature logs for March (min/max) to the eISF by "
     "10 April. No excursions were reported – this is only for the file.\n\nDanke und viele Grüße,\nJonas", None,
     None, "action", "K-TEMPLOG-MUC", None),
    ("2026-03-31T11:15:00Z", "w46", "cra-anz", "cro", TUN, ["S-SYD"], "Gentle reminder: contact list",
     "Hi Olivia,\n\nJust a gentle nudge on the updated site contact list – could you send it over by 2 April?\n\n"
     "Thanks heaps,\nLiam\n\n" + outlook("Liam O'Connor", "Thursday, 26 March 2026 7:50 AM", "Olivia Brown",
                                       "ASAP: please update your contact list") + CONTACTS, None, None, "action",
     "T-CONTACT-SYD", "w19"),
    ("2026-03-31T13:00:00Z", "w47", "sm-tun", "sponsor", TUN, "all",
     "TUNDRA-330 – field safety notice: inhaler batch DV-3312", FSN, "urgent", None, "urgent", "T-FSN-3312", None),
    ("2026-03-31T15:00:00Z", "w48", "cra-na", "cro", KES, ["S-TOR"], "KESTREL-204 – monitoring visit follow-up letter",
     "Dear Dr. Lambert,\n\nThank you for hosting the monitoring visit on 24–25 March. The follow-up letter is in "
     "the eISF. Please address the four open action items (two missing lab reports, one unsigned CV, one "
     "temperature log gap) by 14 April.\n\nBest,\nEmily", None, None, "action", "K-MVR-TOR", None),
    ("2026-03-31T16:00:00Z", "w49", "sm-mar", "sponsor", MAR, "all", "MARLIN-115: recruitment may resume", RESUME,
     None, None, "fyi", "M-RESUME", None),
    ("2026-03-31T18:30:00Z", "w50", "cra-latam", "cro", MAR, ["S-SAO", "S-SCL"], "URGENTE: recruitment is back!!!",
     "Great news team!! The DMC is done and recruitment is open again from today – you can consent, screen and "
     "randomise new patients again. Let's go!!\n\nAna", "urgent", None, "fyi", "M-RESUME", "w49"),
    ("2026-04-01T01:00:00Z", "w51", "sm-tun", "sponsor", TUN, "all",
     "[Resend] TUNDRA-330 – field safety notice: inhaler batch DV-3312",
     "Resending to make sure that every site has received the notice below. Please confirm receipt to your CRA."
     "\n\n" + FSN, "urgent", None, "urgent", "T-FSN-3312", "w47"),
    ("2026-04-01T09:00:00Z", "w52", "srm-emea", "sponsor", TUN, ["S-HEL", "S-JNB"],
     "Site budget amendment – TUNDRA-330",
     "Dear colleagues,\n\nFollowing Protocol Amendment 2, your clinical trial agreement budget has been amended to "
     "cover the additional spirometry visit. Please review the CTA amendment and return it signed via DocuSign by "
     "17 April 2026.\n\nKind regards,\nSarah Mitchell\nSite Relationship Manager", None, None, "action", "T-CTA",
     None),
    ("2026-04-02T03:00:00Z", "w53", "mm-kes", "cro", KES, "all",
     "KESTREL-204 – participant death reported: interim safety instruction", DEATH, "urgent", None, "urgent",
     "K-DEATH", None),
    ("2026-04-02T04:30:00Z", "w54", "lead-1", "cro", KES, "all",
     "Important safety information from the sponsor – liver tests before every dose",
     "Dear Investigators and Study Coordinators,\n\nPlease see below from the sponsor, summarised: following a "
     "fatal case of fulminant hepatitis (KES-2026-0052), liver function tests (ALT, AST, bilirubin) must be "
     "checked within 72 hours before every dose for all participants on treatment, and the dose must be withheld, "
     "with a call to the medical monitor, when ALT or AST exceeds 3 × ULN. This applies until the DSMB meeting on "
     "9 April.\n\nPlease confirm receipt to your CRA today.\n\nMany thanks,\nMeera Pillai | Clinical Research "
     "Lead, APAC & EMEA", None, None, "urgent", "K-DEATH", "w53"),
    ("2026-04-02T06:00:00Z", "w55", "sm-mar", "sponsor", MAR, "all", "MARLIN-115: new IMP lot MR-7790 released",
     "Dear Pharmacists,\n\nLot MR-7790 has been released by QA and will be used for resupply shipments from 6 "
     "April. There is no change to storage (15–25 °C) or handling. Lot MR-7782 remains in quarantine until "
     "further notice.\n\nClinical Supply Team", None, None, "fyi", "M-LOT-7790", None),
    ("2026-04-02T07:30:00Z", "w56", "lead-1", "cro", KES, "all", "KESTREL-204 Study Newsletter – April 2026",
     "Hello KESTREL-204 teams,\n\nWelcome to the April issue! Highlights:\n• 161 participants randomised across "
     "39 sites.\n• Top recruiter in March: Centro de Pesquisa Clínica São Paulo (5 participants).\n• Good "
     "practice: enter tumour assessments in the EDC within 5 days of the scan.\n• The investigator meeting "
     "recordings are now on the portal.\n\nHave a great month,\nThe KESTREL-204 CRO team\nMeridian Clinical",
     "low", None, "fyi", "K-NEWS-APR", None),
    ("2026-04-02T08:00:00Z", "w57", "sm-tun", "sponsor", TUN, "all",
     "2nd REMINDER – TUNDRA-330 ePRO v2.1: please confirm device update",
     "Dear study coordinators,\n\nThis is a second reminder: several sites have not yet confirmed that their ePRO "
     "devices run questionnaire v2.1.\n\n" + EPRO, None, None, "action", "T-EPRO", "w25"),
    ("2026-04-02T09:00:00Z", "w58", "cra-anz", "cro", KES, ["S-AKL"], "KESTREL-204 – ANZ investigator teleconference",
     "Kia ora Aroha,\n\nThe ANZ investigator teleconference will be held on Thursday 9 April at 12:00 NZST / 10:00 "
     "AEST. The dial-in link is in the calendar invitation.\n\nNgā mihi,\nLiam", None, None, "fyi", "K-ANZ-TC",
     None),
    ("2026-04-02T12:00:00Z", "w59", "cra-latam", "cro", MAR, ["S-SAO"],
     "URGENT – do not dispense: storage excursion at your pharmacy",
     "Beatriz,\n\nThis morning's temperature report shows that your pharmacy storage room reached 29 °C for 6 hours "
     "last night (limit 25 °C). Please do not dispense any MARLIN-115 kits stored in that room, keep them in "
     "quarantine in a room at 15–25 °C and report the excursion in IRT today. I'll call you in 30 minutes.\n\nAna",
     "urgent", None, "urgent", "M-SAO-EXC", None),
    ("2026-04-06T15:00:00Z", "w60", "sm-mar", "sponsor", MAR, ["S-PHX"],
     "MARLIN-115 – FDA clinical hold: stop dosing at US sites", HOLD, "urgent", None, "urgent", "M-HOLD", None),
    ("2026-04-06T16:00:00Z", "w61", "cra-na", "cro", MAR, ["S-PHX"],
     "FW: MARLIN-115 – FDA clinical hold: stop dosing at US sites",
     "Jessica – please see below and call me when you can.\nEmily\n\n"
     + outlook("Robert Nguyen <robert.nguyen@calder-cardio.example>", "Monday, April 6, 2026 10:00 AM",
               "Dr Raj Patel", "MARLIN-115 – FDA clinical hold: stop dosing at US sites") + HOLD, None, None,
     "urgent", "M-HOLD", "w60"),
    ("2026-04-06T21:00:00Z", "w62", "sm-mar", "sponsor", MAR, ["S-PHX"], "MARLIN-115 clinical hold – Q&A for US sites",
     "Dear Dr Patel,\n\nAs promised, the Q&A on the clinical hold is in the eISF: how to talk to participants, "
     "which visits continue and how to document missed doses. No further action is required beyond the "
     "instructions sent earlier today.\n\nRobert", None, None, "fyi", "M-HOLD-QA", None),
    ("2026-04-07T02:00:00Z", "w63", "mm-kes", "cro", KES, ["S-TOR"], "Unblinding required – participant 204-1107",
     "Dear Dr. Lambert,\n\nFollowing the grade 4 hepatic event reported yesterday for participant 204-1107, the "
     "treating physician needs to know the treatment assignment. I have approved emergency unblinding: please "
     "unblind participant 204-1107 in IWRS now (Emergency Unblinding menu), document the reason in the source, "
     "and do not share the allocation with the rest of the study team.\n\nDr. Marta Ruiz\nMedical Monitor, "
     "KESTREL-204", None, None, "urgent", "K-UNBLIND", None),
    ("2026-04-07T09:00:00Z", "w64", "sm-tun", "sponsor", TUN, "all", "TUNDRA-330: spirometry re-training by 24 April",
     SPIRO, None, None, "action", "T-SPIRO", None),
    ("2026-04-07T12:00:00Z", "w65", "cra-eu", "cro", TUN, ["S-HEL"], "Spirometry refresher training",
     "Hei Mikko,\n\nThe sponsor asks every spirometry technician to do a short (30 min) refresher module on the "
     "ATS/ERS acceptability and repeatability criteria after the Q1 over-read findings. Deadline is 24 April.\n\n"
     "Terveisin,\nJonas", None, None, "action", "T-SPIRO", "w64"),
    ("2026-04-07T15:00:00Z", "w66", "cra-latam", "cro", KES, ["S-SAO"], "URGENT – ISF filing before my visit",
     "Hi Beatriz,\n\nPlease file the Amendment 3 ethics submission letter in the ISF before my visit on 14 April."
     "\n\nThanks!\nAna", "urgent", None, "action", "K-ISF-SAO", None),
    ("2026-04-08T07:00:00Z", "w67", "sm-kes", "sponsor", KES, "all",
     "Final reminder: Amendment 3 EC submission confirmation due 10 April", FINAL_AM3, None, None, "action",
     "K-AM3-FINAL", None),
    ("2026-04-08T09:00:00Z", "w68", "lead-1", "cro", KES, "all",
     "RE: FW: Final reminder: Amendment 3 EC submission confirmation due 10 April",
     "Adding to Hannah's note below: please send your confirmations to your CRA, not to the sponsor mailbox.\n\n"
     "Thanks,\nMeera\n\n________________________________\n"
     + outlook("Hannah Clarke", "08 April 2026 08:00", "KESTREL-204 Sites",
               "Final reminder: Amendment 3 EC submission confirmation due 10 April") + FINAL_AM3, None, None,
     "action", "K-AM3-FINAL", "w67"),
    ("2026-04-08T11:00:00Z", "w69", "mm-tun", "cro", TUN, "all",
     "Investigator's Brochure edition 7 – acknowledgement required",
     "Dear Investigators,\n\nEdition 7 of the Investigator's Brochure for tiotrelin is available on the portal. The "
     "Reference Safety Information is unchanged. Please acknowledge receipt in the portal by 30 April.\n\nBest "
     "regards,\nDr Erik Lind", None, None, "action", "T-IB", None),
    ("2026-04-08T13:00:00Z", "w70", "cra-za", "cro", MAR, ["S-JNB"],
     "Ethics approval lapsed – no new participants at your site",
     "Dear Thandi,\n\nDuring the remote review I noticed that your ethics committee's annual approval of "
     "MARLIN-115 expired on 5 April and the renewal letter is not yet in the ISF. Until the renewal is received, no "
     "new participants may be consented or randomised at your site. Ongoing participants may continue. Please "
     "send me the renewal letter as soon as you have it.\n\nRegards,\nSipho", "urgent", None, "urgent",
     "M-EC-LAPSE", None),
    ("2026-04-08T15:00:00Z", "w71", "sm-tun", "sponsor", TUN, "all", "TUNDRA Times – Issue 7 (April 2026)",
     "Dear TUNDRA-330 teams,\n\nIn this issue: 96 of 120 participants randomised; spirometry quality is up to 91 % "
     "acceptable sessions; a profile of the Johannesburg team; and the dates of the Lisbon investigator meeting.\n"
     "\nEnjoy reading,\nAino", None, None, "fyi", "T-NEWS-APR", None),
    ("2026-04-08T23:00:00Z", "w72", "cra-anz", "cro", TUN, ["S-SYD"],
     "FW: TUNDRA-330: spirometry re-training by 24 April",
     "Hi Olivia, fyi – see below from the sponsor.\nLiam\n\n"
     + outlook("Aino Virtanen", "Tuesday, 7 April 2026 12:00", "TUNDRA-330 Sites",
               "TUNDRA-330: spirometry re-training by 24 April") + SPIRO, None, None, "action", "T-SPIRO", "w64"),
    ("2026-04-09T06:00:00Z", "w73", "mm-kes", "cro", KES, "all",
     "KESTREL-204 – DSMB outcome: study continues with liver monitoring",
     "Dear Investigators,\n\nThe DSMB met on 9 April and recommended that KESTREL-204 continue. The liver function "
     "tests before every dose remain required and will be added to the protocol in Amendment 5. There is no other "
     "change.\n\nDr. Marta Ruiz", None, None, "fyi", "K-DSMB", None),
    ("2026-04-09T10:00:00Z", "w74", "cra-latam", "cro", MAR, ["S-SCL"], "URGENT – Santiago: monitoring visit next week",
     "Hola Camila,\n\nI'm planning my monitoring visit for Tuesday 14 April from 9:00. Could you confirm by Friday "
     "10 April that the pharmacist will be available in the afternoon?\n\nSaludos,\nAna", "urgent", None, "action",
     "M-MV-SCL", None),
    ("2026-04-09T12:00:00Z", "w75", "sm-mar", "sponsor", MAR, "all",
     "MARLIN-115 – Protocol Amendment 4: QTc monitoring", MAR_AM4, None, None, "action", "M-AM4", None),
    ("2026-04-09T14:00:00Z", "w76", "cra-in", "cro", MAR, ["S-BLR"],
     "Fwd: MARLIN-115 – Protocol Amendment 4: QTc monitoring",
     "Respected Sir,\n\nPFB the sponsor's mail for your kind perusal and needful action.\n\nRegards,\nArjun\n\n"
     "---------- Forwarded message ---------\nFrom: Robert Nguyen <robert.nguyen@calder-cardio.example>\nDate: "
     "Thu, 9 Apr, 2026, 17:30\nSubject: MARLIN-115 – Protocol Amendment 4: QTc monitoring\nTo: MARLIN-115 Sites\n"
     "\n" + MAR_AM4, None, None, "action", "M-AM4", "w75"),
    ("2026-04-10T01:00:00Z", "w77", "supply-kes", "sponsor", KES, "all",
     "KESTREL-204: relabelled KB-25-0112 kits may be dispensed again",
     "Dear Pharmacists,\n\nThe relabelling of lot KB-25-0112 is complete at all sites. Kits from lot KB-25-0112 may "
     "be dispensed again; please set them back to 'Available' in IWRS.\n\nClinical Supply Team", None, None,
     "fyi", "K-LOT-0112-OK", None),
    ("2026-04-10T03:00:00Z", "w78", "cra-anz", "cro", MAR, ["S-ADL"], "MARLIN-115 – ANZ pharmacy teleconference",
     "Hi Grace,\n\nA short reminder that the ANZ pharmacy teleconference is on Wednesday 15 April at 09:30 ACST. "
     "Agenda: IRT returns, the MR-7782 quarantine status and resupply timelines.\n\nCheers,\nLiam", None, None,
     "fyi", "M-ANZ-PHARM", None),
    ("2026-04-10T08:00:00Z", "w79", "clinops-1", "sponsor", KES, "all",
     "A message from our Head of Clinical Operations",
     "Dear KESTREL-204 site teams,\n\nThe past weeks have asked a lot of you: two lot issues, a fatal case and new "
     "liver monitoring, all handled quickly and carefully. Thank you for putting your participants first.\n\n"
     "With gratitude,\nMichael Torres\nHead of Clinical Operations, Northwind Oncology", None, None, "fyi",
     "K-THANKS", None),
    ("2026-04-10T14:00:00Z", "w80", "cra-latam", "cro", MAR, ["S-SAO", "S-SCL"],
     "URGENT!! Reminder – MARLIN-115 Protocol Amendment 4 EC submission",
     "Hi team, please don't forget: the sponsor asks us to submit Protocol Amendment 4 (QTc monitoring, ECG at "
     "end of treatment) to the EC and upload the submission letter to the eISF by 30 April.\n\nObrigada!\nAna",
     "urgent", None, "action", "M-AM4", "w75"),
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
    (HERE / "blind_wording.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    (HERE / "blind_wording.truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(U)} updates, {len(SITES)} sites -> {HERE / 'blind_wording.jsonl'}")


if __name__ == "__main__":
    main()
