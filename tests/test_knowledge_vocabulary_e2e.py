"""Through the HTTP API, on protocols the engine has never seen: a chat question that names a brand or a procedure finds
the criterion that names its class (general vocabulary: knowledge/assets/lexicon_general.yaml); a visit window written
"±" answers a question about the window (session 31: it was refused, the sentence never says "window"); chat
shorthand keeps answering on a protocol whose abbreviation list defines the same letters (PT, HR). The shorthand's own
failure needs a long protocol's many chunks to show in the ranking; `test_chat_shorthand_for_people_and_hours_keeps_
its_meaning_…` in test_knowledge_answer_model.py pins down the expansion itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from siteline.container import Container
from tests.ask_api import api_for_protocol, first_citation

CRITERIA_PROTOCOL = """---
title: KV-310 Protocol
---
# 5 Study Population

## 5.1 Inclusion Criteria

1. Adults aged 18 to 80 years at the time of signing the informed consent form.
2. Chronic kidney disease with an estimated glomerular filtration rate of 25 to 75 mL/min/1.73m2.
3. Urine albumin-to-creatinine ratio of at least 200 mg/g at screening.
4. Stable dose of an angiotensin receptor blocker or ACE inhibitor for at least 4 weeks.

## 5.2 Exclusion Criteria

1. Treatment with a glucagon-like peptide-1 receptor agonist within 8 weeks prior to randomization.
2. Treatment with a sodium-glucose cotransporter 2 (SGLT2) inhibitor within 8 weeks prior to randomization.
3. Treatment with a dipeptidyl peptidase-4 inhibitor within 8 weeks prior to randomization.
4. Treatment with a mineralocorticoid receptor antagonist within 8 weeks prior to randomization.
5. Hospitalization for heart failure within 4 weeks prior to randomization.
6. Major surgery within 4 weeks prior to randomization or planned during the study.
7. Stroke or transient ischemic attack within 4 weeks prior to randomization.
8. Receipt of another investigational drug within 30 days prior to the first dose of study drug.
9. Receipt of a live attenuated vaccine within 30 days prior to the first dose of study drug.
10. Receipt of a blood transfusion within 30 days prior to the first dose of study drug.

# 6 Study Drug

Study drug tablets are stored at 15 to 25 degrees Celsius in the original bottle.
Participants take one tablet once daily in the morning, with or without food.

# 7 Visits

Visits occur at weeks 2, 4, 12 and every 12 weeks thereafter, each with a window of plus or minus 7 days.
Blood pressure is measured in the seated position after 5 minutes of rest at every visit.
"""


WINDOWS_PROTOCOL = """---
title: LM-220 Protocol
---
# List of Abbreviations

Abbreviation | Definition
--- | ---
HR | Hazard ratio
INR | International normalized ratio
PT | Prothrombin time
SAE | Serious adverse event

# 7 Laboratory Assessments

Coagulation tests (PT and INR) are drawn at screening and at Week 12 and analysed by the central laboratory.
A hazard ratio for the primary endpoint is estimated with a Cox model stratified by region.

# 8 Safety Reporting

All serious adverse events must be reported to the sponsor within 24 hours of the site becoming aware of the event.
Non-serious adverse events are recorded in the eCRF at each visit.

# 9 Visit Schedule

Visit 4 takes place on Day 60 ± 7 days; Visit 5 on Day 90 ± 7 days.
Participants fast for 8 hours before each visit at which blood is drawn.
"""


PROTOCOLS = {"KV-310": ("KV310_Protocol.md", CRITERIA_PROTOCOL), "LM-220": ("LM220_Protocol.md", WINDOWS_PROTOCOL)}


EXCLUSION, SAFETY, VISITS = "5.2 Exclusion Criteria", "8 Safety Reporting", "9 Visit Schedule"


@pytest.mark.parametrize(
    ("study", "question", "quoted", "section"),
    [
        ("KV-310", "pt came off Jardiance 3 wks ago, can we randomize him?", "SGLT2", EXCLUSION),
        ("KV-310", "had a colectomy 2 weeks ago - is she eligible?", "Major surgery within 4 weeks", EXCLUSION),
        ("KV-310", "he got Zostavax last week, ok to start IP?", "live attenuated vaccine", EXCLUSION),
        # "pt" and "hr" read as the chat means them, not as the protocol's prothrombin time and hazard ratio
        ("LM-220", "how many hrs does the pt need to fast before a visit?", "fast for 8 hours", VISITS),
        ("LM-220", "pt had an SAE last night, how many hrs do we have to report it?", "within 24 hours", SAFETY),
        ("LM-220", "how many days either side do we get for the V4 window?", "Day 60 ± 7 days", VISITS),
    ],
)
def test_a_chat_question_reaches_the_sentence_that_answers(
    container: Container, tmp_path: Path, study: str, question: str, quoted: str, section: str
) -> None:
    name, text = PROTOCOLS[study]
    citation = first_citation(api_for_protocol(container, tmp_path / "docs", name, text, study), question, study)
    assert quoted in citation["quote"], citation
    assert citation["section"] == section
