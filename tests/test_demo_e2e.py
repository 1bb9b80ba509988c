"""`siteline demo` end to end with the real knowledge engine: ingest the bundled study into a fresh
home, answer a known question with the right citation, abstain on an unanswerable one, and never
show ORION-301 text to a VEGA-210 coordinator. One ingest per module keeps it to seconds."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from siteline.cli import app
from siteline.demo import DATA

service = pytest.importorskip("knowledge.service", reason="the knowledge engine is not installed")
if not hasattr(service, "KnowledgeService"):
    pytest.skip("knowledge/service.py has not landed yet (no KnowledgeService)", allow_module_level=True)

QUESTIONS = """how long do we need to observe pts after the injection?
is there parking validation for study pts?
:as p-osa-crc
what temp do we store IP at?
"""


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SITELINE_DATABASE_URL", raising=False)
        mp.delenv("OPENAI_API_KEY", raising=False)
        mp.delenv("OPENAI_BASE_URL", raising=False)
        yield tmp_path_factory.mktemp("demo-home")


@pytest.fixture(scope="module")
def answers(home: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["demo", "--json", "--home", str(home)], input=QUESTIONS)
    assert result.exit_code == 0, result.output
    assert "Ingested 6 documents" in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_known_question_is_answered_with_the_protocol_citation(answers: list[dict[str, Any]]) -> None:
    observe = answers[0]
    assert observe["abstained"] is False and "30 minutes" in observe["answer"]
    top = observe["citations"][0]
    assert (top["doc"], top["version"]) == ("ORION-301_Protocol.pdf", "2.0")
    assert top["section"] == "6.1 Study Intervention Administered" and top["page"] == 9
    protocol = _norm(" ".join(p.extract_text() for p in PdfReader(DATA / "ORION-301" / "ORION-301_Protocol.pdf").pages))
    assert all(_norm(c["quote"]) in protocol for c in observe["citations"] if c["doc"] == top["doc"])


def test_unanswerable_question_abstains_with_the_cra_offer(answers: list[dict[str, Any]]) -> None:
    assert answers[1]["abstained"] is True and answers[1]["offer"].endswith("shall I ask your CRA?")


def test_a_vega_coordinator_never_sees_orion_documents(answers: list[dict[str, Any]]) -> None:
    storage = answers[2]
    assert storage["abstained"] is False and storage["citations"]
    assert {c["doc"] for c in storage["citations"]} == {"VEGA-210_Protocol.md"}
    assert "15 °C to 25 °C" in storage["answer"] + " ".join(c["quote"] for c in storage["citations"])
    assert "2 °C to 8 °C" not in json.dumps(storage, ensure_ascii=False)


def test_a_second_run_reuses_the_ingested_study(answers: list[dict[str, Any]], home: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--json", "--home", str(home)], input="ICF re-consent?\n")
    assert result.exit_code == 0, result.output
    assert "Ingested" not in result.stderr and len(result.stdout.splitlines()) == 1
