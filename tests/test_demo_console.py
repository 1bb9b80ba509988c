"""`siteline demo`: prepares the sample study once, scopes questions by the directory, prints cited
answers and the CRA offer when piped, and shows the triage and escalation engines on a virtual clock.

A recording stand-in for the knowledge engine keeps these fast; test_demo_e2e.py runs the real one.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from core.db import transaction
from core.directory import Directory
from core.models import AuditRow
from knowledge.types import Answer, Citation
from siteline import demo
from siteline.cli import app
from siteline.container import Container

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
WK12 = Citation(
    doc="ORION-301_Protocol",
    title="ORION-301 Clinical Study Protocol",
    version="2.0",
    section="1.3 Schedule of Activities",
    page=3,
    quote="V6 Week 12 85 ±3 days Yes",
    score=0.9,
)


class RecordingKnowledge:
    """Stands in for KnowledgeService: records calls, answers the Week 12 question, abstains otherwise."""

    def __init__(self) -> None:
        self.ingested: list[tuple[str, str, str, str | None, date | None]] = []
        self.asked: list[tuple[str, tuple[str, ...], str]] = []
        self.filled: list[str] = []

    def fill_vectors(self, study: str, *, now: datetime, actor: str, progress: bool = False) -> int:
        self.filled.append(study)
        return 0

    def ingest(self, paths: list[Path], *, study: str, kind: str, version: str | None = None,
               effective: date | None = None, now: datetime, progress: bool = True) -> None:  # fmt: skip
        self.ingested += [(str(p.relative_to(p.parents[1])), study, kind, version, effective) for p in paths]

    def ask(self, question: str, *, studies: list[str], asker: str, surface: str, now: datetime | None = None,
            phi_redacted: bool = False, record: bool = True) -> Answer:  # fmt: skip
        self.asked.append((question, tuple(studies), asker))
        if "wk 12" in question and "ORION-301" in studies:
            return Answer(answer="Week 12 (V6) is on Day 85, window ±3 days.", abstained=False, citations=[WK12])
        return Answer.abstain()


@pytest.fixture
def fake(container: Container) -> RecordingKnowledge:
    knowledge = RecordingKnowledge()
    container.__dict__["knowledge"] = knowledge  # the container's cached_property slot
    return knowledge


def test_prepare_ingests_the_manifest_in_order_once(container: Container, fake: RecordingKnowledge) -> None:
    report = demo.prepare(container, now=NOW)
    assert report.ingested and report.documents == 6 and report.sites == 3 and report.people == 15
    protocol = [(v, e) for name, _, kind, v, e in fake.ingested if name.endswith("ORION-301_Protocol.pdf")]
    assert protocol == [("1.0", date(2025, 6, 1)), ("2.0", date(2026, 2, 1))]
    assert ("ORION-301/SOP-ORN-01_SAE_Reporting.docx", "ORION-301", "sop", "1.2", date(2026, 1, 10)) in fake.ingested
    assert ("VEGA-210/VEGA-210_Protocol.md", "VEGA-210", "protocol", "1.0", date(2025, 11, 1)) in fake.ingested
    with transaction(container.factory) as session:
        assert Directory(session).person("p-osa-crc") is not None
        actions = session.execute(select(AuditRow.action).order_by(AuditRow.id)).scalars().all()
    assert actions == ["directory.import", "demo.prepared"]

    assert not demo.prepare(container, now=NOW).ingested
    assert len(fake.ingested) == 6 and fake.filled == ["ORION-301", "VEGA-210"]  # only what the index lacks
    assert demo.prepare(container, now=NOW, force=True).ingested
    assert len(fake.ingested) == 12


def test_prepare_again_when_a_bundled_file_changes(
    container: Container, fake: RecordingKnowledge, tmp_path: Path
) -> None:
    root = tmp_path / "demo_data"
    shutil.copytree(demo.DATA, root)
    demo.prepare(container, now=NOW, root=root)
    assert not demo.prepare(container, now=NOW, root=root).ingested
    lab = root / "ORION-301" / "ORION-301_Central_Lab_Manual.md"
    lab.write_text(lab.read_text(encoding="utf-8") + "\nA new paragraph.\n", encoding="utf-8")
    assert demo.prepare(container, now=NOW, root=root).ingested
    assert len(fake.ingested) == 12


def test_questions_are_scoped_to_the_persons_studies(container: Container, fake: RecordingKnowledge) -> None:
    demo.prepare(container, now=NOW)
    session = demo.DemoSession(container)
    assert session.person.person_id == "p-bos-crc" and session.site() and session.site().site_id == "S-BOS"
    session.ask("wk 12 window?", now=NOW)
    session.switch("p-osa-crc")
    assert session.ask("wk 12 window?", now=NOW).answer.abstained
    session.switch("p-lyo-crc")
    session.ask("how is IP stored?", now=NOW)
    assert [(s, a) for _, s, a in fake.asked] == [
        (("ORION-301",), "p-bos-crc"),
        (("VEGA-210",), "p-osa-crc"),
        (("ORION-301", "VEGA-210"), "p-lyo-crc"),
    ]
    with pytest.raises(demo.DemoError, match="no person 'nobody'"):
        session.switch("nobody")


def _run(container: Container, monkeypatch: pytest.MonkeyPatch, stdin: str, *args: str) -> Any:
    monkeypatch.setattr("siteline.cli.demo._open", lambda home: container)
    result = CliRunner().invoke(app, ["demo", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result


def test_piped_questions_print_cited_answers_and_the_cra_offer(
    container: Container, fake: RecordingKnowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = "whats the window for the wk 12 visit?\n\nwhat's the medical monitor's phone number?\n:as p-osa-crc\n"
    stdin += "whats the window for the wk 12 visit?\n:bogus\n:quit\nnever asked\n"
    out = _run(container, monkeypatch, stdin).stdout
    assert "Q: whats the window for the wk 12 visit?" in out
    assert "A: Week 12 (V6) is on Day 85, window ±3 days." in out
    assert "[1] ORION-301 Clinical Study Protocol · v2.0 · 1.3 Schedule of Activities · page 3" in out
    assert '"V6 Week 12 85 ±3 days Yes"' in out
    assert out.count("Not found in the study documents — shall I ask your CRA?") == 2
    assert "You are Haruto Sato · site staff at S-OSA; answers come from VEGA-210." in out
    assert "Unknown command :bogus" in out
    assert [q for q, _, _ in fake.asked] == [
        "whats the window for the wk 12 visit?",
        "what's the medical monitor's phone number?",
        "whats the window for the wk 12 visit?",
    ]


def test_json_mode_prints_one_ask_object_per_question(
    container: Container, fake: RecordingKnowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(container, monkeypatch, "wk 12 window?\nparking for pts?\n", "--json", "--as", "p-lyo-crc")
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["question"] == "wk 12 window?" and first["abstained"] is False
    assert first["citations"][0] | {"score": 0} == {
        "doc": "ORION-301_Protocol",
        "title": "ORION-301 Clinical Study Protocol",
        "version": "2.0",
        "section": "1.3 Schedule of Activities",
        "page": 3,
        "quote": "V6 Week 12 85 ±3 days Yes",
        "score": 0,
        "alternate": False,
    }
    assert second["abstained"] is True and second["offer"].startswith("Not found in the study documents")


def test_unknown_person_is_a_clear_error(
    container: Container, fake: RecordingKnowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("siteline.cli.demo._open", lambda home: container)
    result = CliRunner().invoke(app, ["demo", "--as", "p-nobody"], input="")
    assert result.exit_code == 2 and "no person 'p-nobody'" in result.output


def test_updates_run_through_triage_and_reach_every_site(
    container: Container, fake: RecordingKnowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.prepare(container, now=NOW)
    if "update" not in demo.engine_lines(container):
        out = _run(container, monkeypatch, ":updates\n").stdout
        assert "Not available yet" in out
        return
    result = _run(container, monkeypatch, ":updates\n", "--json")
    deliveries = json.loads(result.stdout)["deliveries"]
    quarantine = next(d for d in deliveries if any(i["id"] == "u03" for i in d["items"]))
    assert (quarantine["to"], quarantine["kind"], quarantine["at"]) == ("S-LYO", "immediate", "2026-03-03T02:10:00Z")
    reached: set[tuple[str, str]] = set()
    for d in deliveries:
        for item in d["items"]:
            reached |= {(d["to"], i) for i in [item["id"], *item.get("merged", [])]}
    sites = {"ORION-301": {"S-BOS", "S-LYO"}, "VEGA-210": {"S-LYO", "S-OSA"}}
    for update in demo.load_updates():
        addressed = sites[update["study"]] if update["sites"] == "all" else set(update["sites"])
        assert {(s, update["id"]) for s in addressed} <= reached, update["id"]


def test_escalate_shows_the_chain_without_notifying_anyone(
    container: Container, fake: RecordingKnowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo.prepare(container, now=NOW)
    if "escalation" not in demo.engine_lines(container):
        assert "Not available yet" in _run(container, monkeypatch, ":escalate help\n").stdout
        return
    stdin = ":escalate Our CRA has not answered about the budget amendment for 3 weeks\n"
    deliveries = json.loads(_run(container, monkeypatch, stdin, "--json").stdout)["deliveries"]
    assert deliveries and deliveries[0]["escalation"]["level"] == 1
    people = {d["to"] for d in deliveries if d["channel"] == "person"}
    assert people and people <= {"p-cra-us", "p-srm-us", "p-cra-lead", "p-sm-orion", "p-clinops"}
    assert any(d["to"] == "S-BOS" and d["kind"] == "escalation_update" for d in deliveries)
    with transaction(container.factory) as session:
        assert session.execute(select(AuditRow.action).where(AuditRow.action.like("escalation%"))).first() is None
    out = _run(container, monkeypatch, ":as p-cra-us\n:escalate something\n").stdout
    assert "Escalations are raised by site staff" in out


def test_identifiers_are_removed_before_the_question_reaches_the_engine(
    container: Container, fake: RecordingKnowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = "pt John Smith DOB 03/04/1961 had an SAE yesterday, how fast do we report?\n"
    out = _run(container, monkeypatch, stdin).stdout
    sent = fake.asked[0][0]
    assert "John Smith" not in sent and "03/04/1961" not in sent and "[NAME]" in sent
    assert "John Smith" not in out and "To protect patient privacy I removed" in out
    line = json.loads(_run(container, monkeypatch, stdin, "--json").stdout)
    assert "John Smith" not in line["question"] and line["notice"].startswith("To protect patient privacy")
