"""A small world for the chat tests: two studies, three sites, their staff and CRAs, and fakes of
the knowledge engine and PHI guard for unit tests (the end-to-end tests use the real ones)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.directory import parse_entries, upsert
from knowledge.models import AnswerRow, QuestionRow
from knowledge.types import Answer, Citation

SITES: list[dict[str, Any]] = [
    {
        "site_id": "S01",
        "name": "Berlin Heart Centre",
        "tz": "Europe/Berlin",
        "studies": ["ORION"],
        "slack_channel_id": "C_S01",
        "digest_times": ["09:00"],
        "quiet_hours": ["20:00", "07:00"],
    },
    {"site_id": "S02", "name": "Lyon Sud", "tz": "Europe/Paris", "studies": ["VEGA"], "slack_channel_id": "C_S02"},
    {
        "site_id": "S03",
        "name": "Boston General",
        "tz": "America/New_York",
        "studies": ["ORION", "VEGA"],
        "slack_channel_id": "C_S03",
    },
]
PEOPLE: list[dict[str, Any]] = [
    {
        "person_id": "anna",
        "name": "Anna Site",
        "role": "site_staff",
        "sites": ["S01"],
        "studies": ["ORION"],
        "slack_user_id": "U_ANNA",
    },
    {
        "person_id": "ben",
        "name": "Ben Vega",
        "role": "site_staff",
        "sites": ["S02"],
        "studies": ["VEGA"],
        "slack_user_id": "U_BEN",
    },
    {
        "person_id": "mia",
        "name": "Mia Both",
        "role": "site_staff",
        "sites": ["S03"],
        "studies": ["ORION", "VEGA"],
        "slack_user_id": "U_MIA",
    },
    {
        "person_id": "carla",
        "name": "Carla CRA",
        "role": "cra",
        "sites": ["S01", "S03"],
        "studies": ["ORION"],
        "slack_user_id": "U_CARLA",
    },
    {
        "person_id": "victor",
        "name": "Victor CRA",
        "role": "cra",
        "sites": ["S02"],
        "studies": ["VEGA"],
        "slack_user_id": "U_VICTOR",
    },
    {
        "person_id": "sam",
        "name": "Sam Manager",
        "role": "study_manager",
        "studies": ["ORION"],
        "slack_user_id": "U_SAM",
    },
]


def load_directory(factory: sessionmaker[Session]) -> None:
    entries = [("site", {"type": "site", **s}) for s in SITES] + [("p", {"type": "person", **p}) for p in PEOPLE]
    sites, persons = parse_entries(entries)
    with transaction(factory) as session:
        upsert(session, sites, persons)


def directory_yaml() -> str:
    import yaml

    return yaml.safe_dump({"sites": SITES, "people": PEOPLE}, sort_keys=False)


@dataclass
class FakeKnowledge:
    """Answers from a fixed table (study -> keyword -> answer) and records question/answer rows as the
    real engine does, so ids and feedback rows are real."""

    factory: sessionmaker[Session]
    table: dict[str, dict[str, tuple[str, Citation]]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    def ask(
        self,
        question: str,
        *,
        studies: list[str],
        asker: str,
        surface: str,
        now: datetime | None = None,
        phi_redacted: bool = False,
        record: bool = True,
        conversation_ref: dict[str, Any] | None = None,
    ) -> Answer:
        self.calls.append(
            {
                "question": question,
                "studies": list(studies),
                "asker": asker,
                "surface": surface,
                "phi_redacted": phi_redacted,
            }
        )
        if self.fail:
            raise RuntimeError(f"index unavailable while answering {question!r}")
        hit = next(
            ((a, c) for s in studies for k, (a, c) in self.table.get(s, {}).items() if k in question.lower()), None
        )
        answer = (
            Answer(answer=hit[0], abstained=False, citations=[hit[1]])
            if hit
            else Answer(answer="Not found in the study documents.", abstained=True)
        )
        assert now is not None
        with transaction(self.factory) as session:
            q = QuestionRow(
                at=now,
                asker=asker,
                surface=surface,
                studies=studies,
                text=question,
                phi_redacted=phi_redacted,
                conversation_ref=conversation_ref,
            )
            session.add(q)
            session.flush()
            a = AnswerRow(
                question_id=q.id,
                at=now,
                text=answer.answer,
                abstained=answer.abstained,
                mode="extractive",
                citations=[{**c.to_json(), "chunk_id": c.chunk_id} for c in answer.citations],
            )
            session.add(a)
            session.flush()
            answer.answer_id = a.id
        return answer


ORION_SAE = Citation(
    doc="orion_protocol.md",
    title="ORION Protocol",
    version="3.0",
    section="8.3 Serious Adverse Events",
    page=41,
    quote="All SAEs must be reported to the sponsor within 24 hours of awareness.",
)
VEGA_VISIT = Citation(
    doc="vega_protocol.md",
    title="VEGA Protocol",
    version="1.1",
    section="6.2 Visit Windows",
    page=12,
    quote="Visit 3 may occur within plus or minus 3 days of the scheduled date.",
)
TABLE = {
    "ORION": {"sae": ("Report SAEs to the sponsor within 24 hours of awareness.", ORION_SAE)},
    "VEGA": {"visit": ("Visit 3 has a window of plus or minus 3 days.", VEGA_VISIT)},
}


@dataclass
class FakeRedaction:
    text: str
    count: int

    @property
    def changed(self) -> bool:
        return self.count > 0

    def notice(self) -> str:
        return f"I removed {self.count} identifier(s) before storing or answering."


class FakeGuard:
    """Redacts `MRN 123…` only: enough to test that the assistant stores and forwards redacted text."""

    PATTERN = re.compile(r"MRN\s*\d+")

    def redact(self, text: str) -> FakeRedaction:
        new, n = self.PATTERN.subn("[MRN]", text)
        return FakeRedaction(new, n)


def write_corpus(root: Path) -> tuple[Path, Path]:
    """ORION: a two-page PDF protocol (so citations carry pages); VEGA: a Markdown protocol."""
    from fpdf import FPDF

    orion, vega = root / "orion", root / "vega"
    orion.mkdir(parents=True)
    vega.mkdir(parents=True)
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(
        0,
        6,
        "ORION-301 Clinical Study Protocol\n\n1 Introduction\nThis study evaluates orionumab in "
        "adults with heart failure.\n\n2 Objectives\nThe primary objective is to compare "
        "hospitalisation rates over 52 weeks.",
    )
    pdf.add_page()
    pdf.multi_cell(
        0,
        6,
        "8 Safety\n\n8.3 Serious Adverse Events\nAll serious adverse events must be reported to "
        "the sponsor within 24 hours of the site becoming aware of the event, using the SAE form in "
        "the EDC.\n\n8.4 Pregnancy\nPregnancies must be reported within 14 days.",
    )
    pdf.output(str(orion / "ORION_Protocol.pdf"))
    (vega / "VEGA_Protocol.md").write_text(
        "# VEGA-210 Protocol\n\n## 6.2 Visit Windows\n\nVisit 3 may occur within plus or minus 3 days of the "
        "scheduled date.\n\n## 7.1 Adverse Events\n\nAdverse events are recorded in the EDC at each visit.\n"
    )
    return orion, vega
