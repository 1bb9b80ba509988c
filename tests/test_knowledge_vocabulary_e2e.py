"""A chat question that names a brand or a procedure finds the criterion that names its class, through
the HTTP API, on a protocol the engine has never seen (general vocabulary: knowledge/assets/lexicon_general.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from siteline.container import Container

PROTOCOL = """---
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


@pytest.fixture
def kv310(container: Container, tmp_path: Path) -> TestClient:
    from siteline.server import create_app
    from tests.test_knowledge_study_vocabulary import ingest_one

    ingest_one(container, tmp_path / "docs", "KV310_Protocol.md", PROTOCOL, "KV-310")

    container.settings.api_token = SecretStr("t0ken")
    return TestClient(create_app(container))


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("pt came off Jardiance 3 wks ago, can we randomize him?", "SGLT2"),
        ("had a colectomy 2 weeks ago - is she eligible?", "Major surgery within 4 weeks"),
        ("he got Zostavax last week, ok to start IP?", "live attenuated vaccine"),
    ],
)
def test_a_brand_or_procedure_in_chat_reaches_the_criterion_that_names_its_class(
    kv310: TestClient, question: str, quoted: str
) -> None:
    reply = kv310.post(
        "/api/ask", json={"question": question, "study": "KV-310"}, headers={"Authorization": "Bearer t0ken"}
    )
    assert reply.status_code == 200
    data = reply.json()
    assert not data["abstained"], data
    assert quoted in data["citations"][0]["quote"], data["citations"][0]
    assert data["citations"][0]["section"] == "5.2 Exclusion Criteria"
