"""The bundled sample study: every file parses into real sections and pages, the generated files
match their sources, the directory and updates are well formed, and every QA evidence is verbatim."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from docx import Document
from pypdf import PdfReader

from core.clock import parse_instant
from core.directory import load_file
from siteline.demo import DATA, fingerprint, load_manifest

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = DATA / "ORION-301" / "ORION-301_Protocol.pdf"
PROTOCOL_V1 = DATA / "ORION-301" / "superseded" / "v1.0" / "ORION-301_Protocol.pdf"
SAE_SOP = DATA / "ORION-301" / "SOP-ORN-01_SAE_Reporting.docx"
IP_SOP = DATA / "ORION-301" / "SOP-ORN-02_IP_Storage.html"
LAB = DATA / "ORION-301" / "ORION-301_Central_Lab_Manual.md"
VEGA = DATA / "VEGA-210" / "VEGA-210_Protocol.md"
HEADING = re.compile(r"^\d+(\.\d+)* [A-Z]")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("|", " ")).strip()


def _pages(path: Path) -> list[str]:
    return [p.extract_text() for p in PdfReader(path).pages]


def _text(path: Path) -> str:
    if path.suffix == ".pdf":
        return _norm(" ".join(_pages(path)))
    if path.suffix == ".docx":
        doc = Document(str(path))
        cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
        return _norm(" ".join([p.text for p in doc.paragraphs] + cells))
    if path.suffix == ".html":
        return _norm(BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" "))
    return _norm(path.read_text(encoding="utf-8"))


def test_protocol_pdf_has_pages_and_numbered_headings_on_known_pages() -> None:
    pages = _pages(PROTOCOL)
    assert 15 <= len(pages) <= 25
    headings = {line.strip(): n for n, text in enumerate(pages, 1) for line in text.splitlines() if HEADING.match(line)}
    assert "1.3 Schedule of Activities" in headings
    assert "8.3.3 Reporting of Serious Adverse Events" in headings
    assert "6.2.1 Temperature Excursions" in headings
    assert headings["8.3.3 Reporting of Serious Adverse Events"] > headings["1.3 Schedule of Activities"] + 5
    assert len(headings) >= 40
    assert all(f"Page {n} of {len(pages)}" in text for n, text in enumerate(pages, 1))
    assert "ORION-301 Protocol Version 2.0" in pages[0]


def test_superseded_protocol_differs_in_checkable_facts() -> None:
    v2, v1 = _text(PROTOCOL), _text(PROTOCOL_V1)
    assert "V6 Week 12 85 ±3 days" in v2 and "V6 Week 12 85 ±2 days" in v1
    assert "within 24 hours of the site becoming aware of it" in v2
    assert "within 14 days of the site becoming aware of it" in v1
    assert "up to 28 days" in v2 and "up to 21 days" in v1
    assert "ORION-301 Protocol Version 1.0" in v1


def test_docx_html_and_markdown_have_numbered_sections() -> None:
    docx_headings = [p.text for p in Document(str(SAE_SOP)).paragraphs if p.style.name.startswith("Heading")]
    assert "5.2 Initial Report Within 24 Hours" in docx_headings and len(docx_headings) >= 15
    soup = BeautifulSoup(IP_SOP.read_text(encoding="utf-8"), "html.parser")
    html_headings = [h.get_text() for h in soup.find_all(["h2", "h3", "h4"])]
    assert "5.3.2 Reporting" in html_headings and len(html_headings) >= 15
    md_headings = [
        line.lstrip("#").strip() for line in LAB.read_text(encoding="utf-8").splitlines() if line[:2] == "##"
    ]
    assert "5.1 Ambient Shipments (Safety Samples)" in md_headings and len(md_headings) >= 15
    assert "4.2 Storage" in VEGA.read_text(encoding="utf-8")


def test_the_knowledge_readers_find_sections_and_pages() -> None:
    readers = pytest.importorskip("knowledge.readers", reason="the knowledge engine's readers are not installed")
    doc = readers.read_document(PROTOCOL)
    sections = {b.section for b in doc.blocks if b.section}
    assert len({b.page for b in doc.blocks}) >= 15
    assert any(s.startswith("8.3.3") for s in sections) and len(sections) >= 40
    for path in (SAE_SOP, IP_SOP, LAB, VEGA):
        parsed = readers.read_document(path)
        assert len({b.section for b in parsed.blocks if b.section}) >= 6, path.name


def test_generated_files_match_their_sources() -> None:
    """Guards against editing a source (or a generated file) without running the build script."""
    pytest.importorskip("fpdf", reason="fpdf2 (dev extra) builds the demo PDFs")
    spec = importlib.util.spec_from_file_location("build_demo_docs", ROOT / "scripts" / "build_demo_docs.py")
    assert spec and spec.loader
    build = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = build  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(build)
    finally:
        sys.modules.pop(spec.name, None)
    for target in build.TARGETS:
        try:
            data = build.render(target)
        except build.FontsMissing as exc:
            pytest.skip(str(exc))
        assert data == (DATA / target.output).read_bytes(), f"{target.output} is stale: run scripts/build_demo_docs.py"


def test_manifest_lists_every_document_once_superseded_first() -> None:
    studies = {s.study: s for s in load_manifest()}
    assert set(studies) == {"ORION-301", "VEGA-210"}
    orion = studies["ORION-301"].documents
    assert [d.version for d in orion if d.path.name == "ORION-301_Protocol.pdf"] == ["1.0", "2.0"]
    assert {d.path.suffix for d in orion} == {".pdf", ".docx", ".html", ".md"}
    assert all(d.path.exists() for s in studies.values() for d in s.documents)
    assert len(fingerprint()) == 64


def test_directory_loads_with_every_role_and_chat_identities() -> None:
    sites, people = load_file(DATA / "directory.yaml")
    assert {s.site_id: (s.tz, s.tier) for s in sites} == {
        "S-BOS": ("America/New_York", "strategic"),
        "S-LYO": ("Europe/Paris", "standard"),
        "S-OSA": ("Asia/Tokyo", "preferred"),
    }
    assert all(s.chat.get("slack") and s.digest_times and s.quiet_hours for s in sites)
    roles = Counter(p.role for p in people)
    assert set(roles) == {"site_staff", "cra", "cra_lead", "srm", "study_manager", "medical_monitor", "clinops_head"}
    slack_ids = [p.chat.get("slack") for p in people]
    assert all(slack_ids) and len(set(slack_ids)) == len(slack_ids)
    site_ids = {s.site_id for s in sites}
    assert all(set(p.sites) <= site_ids for p in people)


def test_updates_are_well_formed_replay_lines() -> None:
    sites, people = load_file(DATA / "directory.yaml")
    persons = {p.person_id for p in people}
    site_studies = {s.site_id: set(s.studies) for s in sites}
    lines = [json.loads(x) for x in (DATA / "updates.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) >= 15 and len({u["id"] for u in lines}) == len(lines)
    times = [parse_instant(u["at"]) for u in lines]
    assert times == sorted(times)
    for u in lines:
        assert u["type"] == "update" and u["org"] in ("sponsor", "cro") and u["from"] in persons, u["id"]
        assert u["subject"] and u["body"], u["id"]
        if u["sites"] != "all":
            assert all(u["study"] in site_studies[s] for s in u["sites"]), u["id"]
    assert Counter(u.get("declared_priority") for u in lines)["urgent"] >= 3


def test_sample_qa_evidence_is_verbatim_in_the_named_document() -> None:
    docs = {d.path.stem: d.path for s in load_manifest() for d in s.documents if "superseded" not in d.path.parts}
    rows = [json.loads(x) for x in (ROOT / "tests" / "data" / "sample_qa.jsonl").read_text().splitlines() if x]
    assert len(rows) >= 25 and {"numeric", "factoid", "procedure", "unanswerable"} <= {r["kind"] for r in rows}
    texts = {stem: _text(path) for stem, path in docs.items()}
    for row in rows:
        assert set(row) >= {"question", "doc", "answer", "evidence", "kind"}
        if row["kind"] == "unanswerable":
            assert not row["evidence"] and not row["doc"]
            continue
        assert _norm(row["evidence"]) in texts[row["doc"]], row["id"]
