"""Through the HTTP API, on a protocol the engine has never seen (session 31): a visit window written "±" answers a
question about the window (it was refused: the sentence never says "window"), and chat shorthand keeps answering on
a protocol whose abbreviation list defines the same letters (PT, HR). The shorthand's own failure needs a long
protocol's many chunks to show in the ranking; `test_chat_shorthand_for_people_and_hours_keeps_its_meaning_…` in
test_knowledge_answer_model.py pins down the expansion itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from siteline.container import Container

PROTOCOL = """---
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


@pytest.fixture
def lm220(container: Container, tmp_path: Path) -> TestClient:
    from siteline.server import create_app
    from tests.test_knowledge_study_vocabulary import ingest_one

    ingest_one(container, tmp_path / "docs", "LM220_Protocol.md", PROTOCOL, "LM-220")
    container.settings.api_token = SecretStr("t0ken")
    return TestClient(create_app(container))


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        # "pt" and "hr" read as the chat means them, not as the protocol's prothrombin time and hazard ratio
        ("how many hrs does the pt need to fast before a visit?", "fast for 8 hours"),
        ("pt had an SAE last night, how many hrs do we have to report it?", "within 24 hours"),
        ("how many days either side do we get for the V4 window?", "Day 60 ± 7 days"),
    ],
)
def test_chat_shorthand_and_a_window_reach_the_sentence_that_answers(
    lm220: TestClient, question: str, quoted: str
) -> None:
    reply = lm220.post(
        "/api/ask", json={"question": question, "study": "LM-220"}, headers={"Authorization": "Bearer t0ken"}
    )
    assert reply.status_code == 200
    data = reply.json()
    assert not data["abstained"], data
    assert quoted in data["citations"][0]["quote"], data["citations"][0]
