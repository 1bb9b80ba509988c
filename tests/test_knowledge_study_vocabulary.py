"""A study's own abbreviations, drug codes and brands are learned from its documents and understood in questions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from siteline.container import Container

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)

PROTOCOL = """# KX-7 Protocol: zorvanemab in chronic urticaria

## List of Abbreviations

Abbreviation | Definition
CRU | Clinical research unit
HSR | Hypersensitivity reaction

## 1 Introduction

Zorvanemab (KX-4411) is a humanised antibody. In this protocol zorvanemab is also marketed as Velquora® (zorvanemab).

## 6.2 Premedication

Participants receive oral cetirizine 10 mg at least 60 minutes before each zorvanemab infusion.

## 8.4 Hypersensitivity

Any HSR of grade 2 or higher must be reported to the sponsor within 24 hours of the site becoming aware of it.

## 9 Storage

Vials are kept refrigerated at 2 to 8 degrees Celsius in the original carton.
"""


def ingest_one(container: Container, folder: Path, name: str, text: str, study: str) -> None:
    """One Markdown protocol written to `folder` and ingested into `study` (shared by other tests)."""
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    report = container.knowledge.ingest([folder], study=study, kind="protocol", now=NOW, progress=False)
    assert report.ok


def _ingest(container: Container, tmp_path: Path) -> None:
    ingest_one(container, tmp_path / "kx7", "KX7_Protocol.md", PROTOCOL, "KX-7")


def test_a_drug_code_and_a_brand_defined_in_the_protocol_find_the_generic_sentence(
    container: Container, tmp_path: Path
) -> None:
    _ingest(container, tmp_path)
    for question in ("premed before KX-4411?", "what premed do pts get before velquora?"):
        answer = container.knowledge.ask(question, studies=["KX-7"], asker="t", surface="test", record=False)
        assert not answer.abstained, question
        assert "cetirizine 10 mg" in answer.citations[0].quote, (question, answer.citations[0].quote)


def test_an_abbreviation_from_the_protocols_list_is_spelled_out_for_retrieval(
    container: Container, tmp_path: Path
) -> None:
    _ingest(container, tmp_path)
    found = container.knowledge.search("how fast do we report an HSR?", studies=["KX-7"], k=3)
    words = {t for c in found.query.concepts for alt, _, _ in c.alternatives for t in alt}
    assert {"hypersensit", "reaction"} & words or {"hypersensitivity"} & words, words
    index = container.knowledge.keyword._cache["KX-7"]  # the index built at ingest carries the study's lexicon
    assert index.lexicon["kx-4411"][0] == "zorvanemab" and index.lexicon["velquora"][0] == "zorvanemab"
    assert "study intervention" in index.lexicon["velquora"]  # the title page's drug: what protocols call it
    assert index.lexicon["hsr"] == ["hypersensitivity reaction"]
