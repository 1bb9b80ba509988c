"""Clinical-trial vocabulary that looks like an identifier but is not one, and must survive redaction.

Study codes (ORION-301, M15-554, NCT03104374), visit names (Week 12, Day -7, C1D1), site ids (S-BOS),
protocol sections (per 8.3.1), doses (15 mg QD), lab values (ALT 3.2x ULN), versions, kit and lot
numbers, and pseudonymous subject numbers ("subject 1002-004": a sponsor-assigned code, not a Safe
Harbor identifier — see docs/privacy.md). These spans are handed to philter-lite as "safe" filters
that run before its PHI filters, and veto any finding that falls wholly inside one.
"""

from __future__ import annotations

import re

_NUM = r"[-+]?\d+(?:\.\d+)?"
_UNIT = (
    r"(?:mg/kg|mg/m2|mg/dL|mg/L|g/dL|g/L|ug/g|µg/g|mmol/L|umol/L|µmol/L|mL/min(?:/1\.73\s?m2)?|"
    r"x\s?10\^?\d+/L|U/L|IU/L|mcg|µg|ug|mg|kg|g|mL|ml|L|IU|units?|%|mmHg|bpm|ms|°?C|°?F|h|hrs?|hours?|min|days?|weeks?)"
)
_ROUTE = r"(?:IV|SC|SQ|PO|IM|QD|BID|TID|QID|QW|Q[1-9]W|q[1-9]w|daily|weekly|once|twice)"

PATTERNS: dict[str, str] = {
    # ORION-301, M15-554, PD-204, ORION-302 OLE; NCT numbers; EudraCT; IND numbers; Form 1572
    "study code": r"\b[A-Z][A-Z0-9]{0,9}-\d{2,4}\b",
    # instruments and assays written as upper-case codes with a digit: PHQ-9, EQ-5D-5L, SF-36, IL-6, COVID-19
    "coded term": r"\b(?=[A-Z0-9-]*\d)[A-Z][A-Z0-9]{0,9}(?:-[A-Z0-9]{1,5}){1,3}\b",
    # Slack's own tokens for people and channels: an opaque workspace id, not a name
    "chat mention": r"<[@#][UWC][A-Z0-9]{4,}(?:\|[^>\s]{0,80})?>|<![a-z]+>",
    "registry number": (
        r"\bNCT\d{8}\b|\bEudraCT\s*(?:no\.?|number)?\s*\d{4}-\d{6}-\d{2}\b|\bIND\s*#?\s*\d{4,7}\b|\b1572\b"
    ),
    # Week 12, Day -7, Weeks 0, 4 and 8, Visit 3, Cycle 2, Day 85 +/- 3 days, C1D1, V3
    "visit": (
        r"\b(?:Week|Wk|Day|Visit|Month|Cycle|Weeks|Days)s?\s*[-+]?\d+(?:\s*(?:,|and|or|to|-)\s*[-+]?\d+)*"
        r"(?:\s*\+/-\s*\d+\s*days?)?|\bC\d{1,2}D\d{1,2}\b|\bV\d{1,2}\b"
    ),
    "site id": r"\bS-[A-Z]{2,5}\b",
    # where trial visits happen, which philter's "travel to <place>" pattern takes for an address
    "visit place": r"(?i:\b(?:site|clinic|study|screening|research|hospital|infusion)\s+visits?\b)",
    # "travel to site on monday": the trial's own places after "to", which the same pattern reads as a town
    "trial place": r"(?i:(?<=\bto\s)(?:the\s+|our\s+|your\s+)?(?:study\s+)?(?:site|clinic)\b)",
    # the pronoun "I" (and "I'm", "I've", "I'd", "I'll"): never an initial unless labelled as one (detectors)
    "pronoun I": r"(?<![\w.])I(?:['’](?:m|ve|d|ll))?(?![\w.])",
    # protocol sections: only with a cue ("per 8.3.1", "in 4.2", "Table 4"), so dotted dates stay dates
    "section": (
        r"(?i:\b(?:section|sect?\.?|§|per|in|under|see|criterion|inclusion|exclusion)\s*)\d{1,2}(?:\.\d{1,2}){1,3}\b"
        r"|(?i:\b(?:section|§|table|appendix|exclusion|inclusion|criterion)\s*)\d{1,2}\b"
    ),
    "dose or lab value": rf"(?<![\w/.-]){_NUM}\s?(?:-\s?{_NUM}\s?)?{_UNIT}(?:\s?{_ROUTE})*(?![\w/])",
    "fold of normal": rf"\b{_NUM}\s?x\s?ULN\b",
    "lab with value": (
        r"\b(?:ALT|AST|ALP|GGT|eGFR|CrCl|Hgb|Hb|HbA1c|A1c|CRP|ANC|WBC|QTcF|QTc|PLT|INR|MES|BMI|BP|HR|"
        r"ECOG|CTCAE|Karnofsky|Mayo)\s*(?:score\s*)?(?:grade\s*)?[:=]?\s*(?:>=|<=|>|<)?\s*\d+(?:\.\d+)?(?:\s?-\s?\d+)?"
    ),
    "version": r"(?i:\b(?:version|ver\.?|v|amendment|amdt\.?|ICF\s*v)\s*\d+(?:\.\d+)*\b)",
    "kit or lot": (
        r"(?i:\b(?:kit|lot|batch|query|queries|cohort|tracking|waybill|airway\s*bill|AWB|randomization|rand)s?"
        r"\s*(?:numbers?|nos?\.?|ids?|#)?\s*#?\s*[A-Z]?\d[A-Z0-9]*(?:\s*(?:,|and|&|/|or)\s*[A-Z]?\d[A-Z0-9]*)*\b)"
    ),
    "time of day": r"\b\d{1,2}(?::\d{2})?\s?(?:AM|PM|am|pm|a\.m\.|p\.m\.)(?![\w.])|\bQ[1-4]\b",
    # the trade's vendors and systems: sponsors' EDC/IRT/ePRO platforms, central labs, CROs, payment cards
    "vendor": (
        r"\b(?:Medidata(?:\s+Rave)?|Rave|Veeva(?:\s+Vault)?|Vault|InForm|Signant|Suvoda|Almac|Calyx|Clario|Cenduit|"
        r"YPrime|Bioclinica|Covance|Labcorp|LabCorp|Quest|IQVIA|Parexel|Syneos|Medpace|Advarra|WCG|ClinCard|"
        r"Greenphire|Florence|Castor|REDCap|OpenClinica|Oracle\s+Clinical|Viedoc)\b"
    ),
    # pseudonymous trial subject numbers, with their cue: "subject 1002-004", "subjects 1002-001 to 1002-010"
    "subject number": (
        r"(?i:\b(?:subject|subj\.?|participant|pt|patient|screening\s*(?:no\.?|number|#))s?\s*(?:#|no\.?|number|id)?\s*:?\s*)"
        r"\d{3,4}-\d{3,4}(?:\s*(?:to|-|through|and)\s*\d{3,4}-\d{3,4})?\b"
        # the bare shape too ("the Week 8 sample for 1002-004"): staff are asked to use these numbers
        r"|(?<![\w/.-])\d{3,4}-\d{3,4}(?![\w/.-])"
    ),
}

_COMPILED = [re.compile(p) for p in PATTERNS.values()]

# Eponyms are surnames on every census list: "Crohn's disease", "Hy's law", "Mayo score". A capitalised
# word before a clinical head noun is an eponym unless a title or another capitalised word precedes it
# ("Mrs. Alvarez's score", "Maria Alvarez's score" stay names).
_EPONYM = re.compile(
    r"\b(?:Cockcroft-Gault|Child-Pugh|Kaplan-Meier|Guillain-Barr[eé]|Stevens-Johnson|Bland-Altman|Lund-Browder)\b"
    r"|\bGrace(?=\s+period\b)"
    r"|\b[A-Z][a-z]+(?:['’]s)?(?=\s+(?:disease|syndrome|law|lymphoma|score|scale|stool|monitor|criteria|sign|"
    r"palsy|phenomenon|classification|equation|formula|curve|plot|ulcer|esophagus|thyroiditis|sarcoma|"
    r"tumou?r|disorder|substudy|cyst|fracture|reflex|maneuver|manoeuvre|triad|angina|ataxia|chorea|hernia|"
    r"contracture|neuroma|encephalopathy|dermatitis|anaemia|anemia|block|node|nodes|cells?|bod(?:y|ies))\b)"
)
_NAME_BEFORE = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?|\b[A-Z][a-z]+)\s+$")


def safe_spans(text: str) -> list[tuple[int, int]]:
    """Every [start, end) span of trial vocabulary or clinical eponym in text (may overlap)."""
    spans = [m.span() for rx in _COMPILED for m in rx.finditer(text) if m.end() > m.start()]
    return spans + eponym_spans(text)


_SUBJECT = re.compile(PATTERNS["subject number"])


def mentions_subject(text: str) -> bool:
    """Whether a trial subject number appears: dates beside it are that participant's dates."""
    return bool(_SUBJECT.search(text))


def eponym_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _EPONYM.finditer(text) if not _NAME_BEFORE.search(text, 0, m.start())]


def inside_any(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    """Whether [start, end) lies wholly inside one of spans."""
    return any(s <= start and end <= e for s, e in spans)
