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

QUESTIONS = """whats the window for the wk 12 visit?
how much does the sponsor pay per wk 16 visit?
:as p-osa-crc
how should the study drug be stored?
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
    wk12 = answers[0]
    assert wk12["abstained"] is False and "±3 days" in wk12["answer"] + " ".join(c["quote"] for c in wk12["citations"])
    top = wk12["citations"][0]
    assert (Path(top["doc"]).stem, top["version"]) == ("ORION-301_Protocol", "2.0")
    assert top["section"].startswith("1.3") and top["page"] in (2, 3)
    protocol = _norm(" ".join(p.extract_text() for p in PdfReader(DATA / "ORION-301" / "ORION-301_Protocol.pdf").pages))
    assert all(_norm(c["quote"]) in protocol for c in wk12["citations"] if c["doc"] == top["doc"])


def test_unanswerable_question_abstains_with_the_cra_offer(answers: list[dict[str, Any]]) -> None:
    assert answers[1]["abstained"] is True and answers[1]["offer"].endswith("shall I ask your CRA?")


def test_a_vega_coordinator_never_sees_orion_documents(answers: list[dict[str, Any]]) -> None:
    storage = answers[2]
    assert storage["abstained"] is False and storage["citations"]
    assert {Path(c["doc"]).stem for c in storage["citations"]} == {"VEGA-210_Protocol"}
    assert "15 °C to 25 °C" in storage["answer"] + " ".join(c["quote"] for c in storage["citations"])
    assert "2 °C to 8 °C" not in json.dumps(storage, ensure_ascii=False)


def test_a_second_run_reuses_the_ingested_study(answers: list[dict[str, Any]], home: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--json", "--home", str(home)], input="ICF re-consent?\n")
    assert result.exit_code == 0, result.output
    assert "Ingested" not in result.stderr and len(result.stdout.splitlines()) == 1
