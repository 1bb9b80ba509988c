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


def test_the_reader_reads_a_study_code_with_the_name_the_documents_use(container: Container, tmp_path: Path) -> None:
    """The fine-tuned reader never saw the study: "KX-4411" meant nothing to it, so the premedication sentence sat
    below its floor (cosine 0.28) and a stricter floor refused the question. The study's own definitions spell the
    code out for it, in the documents' more frequent form; a word the documents already prefer stays as asked."""
    _ingest(container, tmp_path)
    for question, read in (
        ("premed before KX-4411?", "premed before KX-4411 (zorvanemab)?"),
        ("what premed do pts get before velquora?", "what premed do pts get before velquora (zorvanemab)?"),
        ("zorvanemab premed?", "zorvanemab premed?"),  # the generic name is what the protocol writes
        ("premed before KX-4411 / velquora?", "premed before KX-4411 (zorvanemab) / velquora?"),  # once
        ("when do sites send the CRF?", "when do sites send the CRF?"),  # not the study's word: as asked
    ):
        found = container.knowledge.search(question, studies=["KX-7"], k=3)
        assert found.reader_question == read
    code = container.knowledge.search("premed before KX-4411?", studies=["KX-7"], k=3)
    generic = container.knowledge.search("premed before zorvanemab?", studies=["KX-7"], k=3)
    sentence = code.chunks[code.passages[0].chunk_id]
    assert "cetirizine" in sentence.text
    assert float(code.reader_vector @ generic.reader_vector) > 0.8  # read as the same question


def test_only_a_name_the_study_defines_is_spelled_out_for_the_reader() -> None:
    """A definition list's rule also catches "(in general, hospitalization signifies ...)" and "PTs (preferred
    terms)": everyday words, chat shorthand and sentences are never read into a question."""
    from knowledge.lexicon import as_documents_say

    study = {
        "in": ["general, hospitalization signifies that the participant has been detained"],
        "pts": ["preferred terms"],
        "us": ["united states"],
        "ioi": ["intraocular inflammation"],
        "kx-4411": ["zorvanemab administered as a single intravenous infusion over sixty minutes"],
    }
    vocab = {"in": 900, "general": 50, "pts": 3, "prefer": 40, "term": 60, "us": 5, "unit": 30, "state": 30}
    vocab |= {"ioi": 4, "intraocular": 9, "inflammation": 20, "kx": 1, "4411": 1, "kx4411": 1}
    assert (
        as_documents_say("pts in the US with IOI?", study, vocab)
        == "pts in the US with IOI (intraocular inflammation)?"
    )
    assert as_documents_say("KX-4411 dose?", study, vocab) == "KX-4411 dose?"  # not the documents' word: as asked


def test_a_drug_or_procedure_the_documents_never_name_is_read_with_the_meaning_they_use() -> None:
    """The reader never saw most of the world's brands: "Zostavax" was 0.35 from "Receipt of a live attenuated
    vaccine within 30 days", under the reader's floor. It reads the general vocabulary's meaning that the documents
    use most; a word the documents use themselves, site shorthand and everyday words stay as typed."""
    from knowledge.lexicon import as_documents_say, terms

    vocab = {t: 2 for t in terms("live attenuated vaccine SGLT2 inhibitor major surgery participant")}
    assert (
        as_documents_say("he got Zostavax last week, ok to start IP?", {}, vocab)
        == "he got Zostavax (live attenuated vaccine) last week, ok to start IP?"
    )
    assert as_documents_say("had a colectomy 2 wks ago?", {}, vocab) == "had a colectomy (major surgery) 2 wks ago?"
    assert as_documents_say("pt off Jardiance?", {}, vocab) == "pt off Jardiance (sglt2 inhibitor)?"
    # the documents name it themselves, or say none of its meanings: as asked
    assert as_documents_say("pt off Jardiance?", {}, vocab | {"jardianc": 1}) == "pt off Jardiance?"
    assert as_documents_say("pt on Xarelto?", {}, vocab) == "pt on Xarelto?"
    assert as_documents_say("can the pt keep a port?", {}, vocab) == "can the pt keep a port?"


def test_a_sentence_the_abbreviation_rule_caught_is_not_a_meaning() -> None:
    """A protocol's definitions list ("END  of the study is the date of the last visit …") was learnt as a
    definition of "end": every "end" a coordinator typed was then searched as that sentence."""
    from knowledge.lexicon import expand
    from knowledge.study_lexicon import learn

    glossary = (
        "END  of the study is the date of the last visit or last scheduled procedure shown in the schedule of\n"
        "EOT  End of treatment"
    )
    study = learn([("List of Abbreviations", glossary)])
    vocab = {"end": 40, "treatment": 90, "visit": 120, "date": 30, "eot": 3}
    query = expand("when is the end of treatment visit?", vocab, study)
    assert "scheduled" not in query.semantic_text and "end" in query.semantic_text.split()
    assert "end of treatment" in expand("EOT visit window?", vocab, study).semantic_text  # a name still is one


def test_an_abbreviation_list_in_a_protocols_front_matter_is_learnt_without_a_heading() -> None:
    """A PDF protocol's front matter has no numbered heading, so its "List of Abbreviations" chunk had no section
    and was never read as one: seven held-out PDF protocols learnt 1-18 pairs where their lists define 35-53, and
    four real protocols of `qa_train` missed 17-36 ("PFS  Prefilled syringe" was not known, session 34). The list's
    title in the chunk's first lines, or a chunk that is mostly such pairs (the list's later chunks), is enough; a
    title page's "PROTOCOL NUMBER: GR41984" and a contents line's "Table of Contents" are no pairs."""
    from knowledge.study_lexicon import learn

    first = "List of Abbreviations\nAbbreviation Definition\nAE Adverse event\nPFS Prefilled syringe\nQ4W Every 4 weeks"
    later = "\n".join(f"{s} {d}" for s, d in [("SAE", "Serious adverse event"), ("SC", "Subcutaneous")] * 5)
    title_page = "\n".join(
        ["TITLE: A PHASE III, RANDOMIZED STUDY", "PROTOCOL NUMBER: GR41984", "STUDY NAME: BALATON"] * 3
        + ["Table of Contents", "List of Tables"]
    )
    study = learn([("", first), ("", later), ("", title_page)])
    assert study["pfs"] == ["prefilled syringe"] and study["q4w"] == ["every 4 weeks"] and study["ae"]
    assert study["sc"] == ["subcutaneous"]  # a later chunk of the list, no title
    assert not {"title", "protocol", "study", "table", "list"} & set(study)
