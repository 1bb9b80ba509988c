"""When a date is PHI: Safe Harbor removes dates more specific than the year *related to an individual*.

Site chat is full of dates that relate to no one (an amendment's date, a database lock, an IRB
approval), and removing those would make the assistant useless for protocol questions. So a date is
redacted when the message is about a person: it carries another identifier (a name, MRN, phone...)
or a patient cue ("pt", "her", "admitted") or a subject number ("1002-004's Week 12 was 3/14": the
code itself is kept, the participant's dates of service are not). A labelled date of birth is
always removed (that is the DOB detector). A year alone, a weekday or a season is never PHI; a bare
month name ("May visit windows") counts only in patient context.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from privacy.redaction import Finding
from privacy.vocabulary import mentions_subject

# singular cues only: "subjects must fast" is protocol talk, "the subject fasted" is about a person
PATIENT_CUE = re.compile(
    r"(?i)\b(?:pt|pt's|patient|patient's|subject|subject's|participant|participant's|subj|"
    r"he|she|him|his|her|hers|mr|mrs|ms|miss|"
    r"dob|born|birthday|admitted|admission|discharged|discharge|died|death|deceased|hospitalized|hospitalised|"
    r"seen|came\s+in|presented|baby|pregnan\w*|delivered|"
    r"husband|wife|son|daughter|mother|father|mom|dad|caregiver|family)\b"
)
# kinds that identify a person, so any date beside them is that person's date
PERSONAL_KINDS = frozenset({"NAME", "MRN", "SSN", "DOB", "PHONE", "EMAIL", "ADDRESS", "ID", "AGE", "URL", "IP"})
_NOT_A_DATE = re.compile(
    r"(?i)^(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?s?|spring|summer|fall|autumn|winter|"
    r"christmas|new\s+year'?s(?:\s+eve)?|\d{4})$"
)


def about_a_person(text: str, findings: Iterable[Finding]) -> bool:
    personal = any(f.kind in PERSONAL_KINDS for f in findings)
    return personal or bool(PATIENT_CUE.search(text)) or mentions_subject(text)


def keep_dates(text: str, findings: list[Finding]) -> list[Finding]:
    """Drop DATE findings that are not PHI under the policy above; other kinds pass through."""
    personal = about_a_person(text, findings)
    kept = []
    for f in findings:
        if f.kind == "DATE":
            value = text[f.start : f.end].strip(" ,.")
            if not personal or _NOT_A_DATE.match(value):
                continue
        kept.append(f)
    return kept
