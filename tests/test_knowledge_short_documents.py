"""Short site documents (a fridge note, a courier memo, a one-page SOP): the one sentence that answers is
quoted, not refused. A refit of the answer model once learned from near misses, which share the asked
topic's words, to hold those words against answering, and then refused a one-sentence note that said
exactly what was asked; these questions guard every refit against that."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from knowledge.models import ChunkRow
from siteline.container import Container

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)

DOCUMENTS = {
    "Fridge_Note.md": "# Storage\n\nKeep the study kits refrigerated between 2 and 8 degrees Celsius.\n",
    "Courier_Memo.md": (
        "# Memo: courier collections\n\n"
        "Frozen pharmacokinetic samples are collected by the courier every Tuesday before 11:00.\n"
        "To book a collection on another day, call the central lab on 0161 555 0199 at least one working day ahead.\n"
    ),
    "SOP_Reconsent.md": (
        "# SOP-12 Re-consent of participants\n\nVersion 3.0, 2 February 2026\n\n"
        "## 1. Purpose\n\n"
        "This procedure describes how site staff re-consent participants when the consent form changes.\n\n"
        "## 2. When to re-consent\n\n"
        "Participants still on treatment must sign the new consent form at their next scheduled visit.\n"
        "Participants in follow-up are re-consented by telephone within 30 days, and sign at their next visit.\n\n"
        "## 3. Records\n\n"
        "File the signed form in the participant's binder and record the date and form version in the source notes.\n"
    ),
}

ANSWERED = [
    ("how are the kits stored?", "between 2 and 8 degrees Celsius"),
    ("what temp do the kits need to be kept at", "between 2 and 8 degrees Celsius"),
    ("which day does the courier pick up frozen PK samples?", "every Tuesday before 11:00"),
    ("what number do i call to book a courier pickup on a different day", "0161 555 0199"),
    ("pt still on tx, when do they sign the new ICF?", "at their next scheduled visit"),
    ("how long do we have to reconsent follow-up pts?", "within 30 days"),
    ("where do we file the signed reconsent form", "participant's binder"),
]


@pytest.fixture
def short_docs(container: Container, tmp_path: Path) -> Container:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = container.knowledge.ingest([folder], study="SHORT-1", kind="sop", now=NOW, progress=False)
    assert report.ok
    return container


@pytest.mark.parametrize(("question", "expected"), ANSWERED)
def test_the_sentence_that_answers_is_quoted_first(short_docs: Container, question: str, expected: str) -> None:
    answer = short_docs.knowledge.ask(question, studies=["SHORT-1"], asker="u1", surface="test", record=False)
    assert not answer.abstained, question
    assert expected in answer.citations[0].quote


LAB_TABLE_ROWS = [
    ("Haematology", "EDTA, lavender top", "2 mL", "Invert 8 to 10 times; do not centrifuge", "Same day, ambient"),
    ("Chemistry panel", "SST, gold top", "5 mL", "Clot upright for 30 minutes, then centrifuge", "Same day, ambient"),
    ("Serology", "SST, gold top", "5 mL", "As for chemistry", "Same day, ambient"),
    ("Coagulation", "Citrate, light blue top", "2.7 mL", "Fill to the line; invert 4 times", "Same day, ambient"),
    ("Lipid panel", "SST, gold top", "3.5 mL", "As for chemistry, after an 8-hour fast", "Same day, ambient"),
    ("HbA1c", "EDTA, lavender top", "2 mL", "Invert 8 to 10 times", "Same day, ambient"),
    ("Biomarkers", "SST, gold top", "3.5 mL", "As for chemistry; 2 cryovials of 0.5 mL", "Batched, on dry ice"),
    (
        "Pharmacokinetics",
        "Plain red top",
        "4 mL",
        "Clot 30 to 60 minutes; spin at 1,500 g at 4 degrees",
        "Batched, on dry ice",
    ),
    ("Anti-drug antibodies", "Plain red top", "4 mL", "As for pharmacokinetics", "Batched, on dry ice"),
    ("Urinalysis", "Urine pot, yellow cap", "10 mL", "Fill to the line; no preservative", "Same day, ambient"),
]
LAB_HEADER = ("Test", "Tube", "Draw volume", "Processing", "Shipping")


def _markdown_table() -> str:
    lines = ["| " + " | ".join(LAB_HEADER) + " |", "|---" * len(LAB_HEADER) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in LAB_TABLE_ROWS]
    return (
        "# Lab manual\n\n## 5. Tubes and handling\n\nThe table lists each central test and its tube.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def _html_table() -> str:
    head = "".join(f"<th>{c}</th>" for c in LAB_HEADER)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in LAB_TABLE_ROWS)
    return (
        "<html><head><title>Lab manual</title></head><body><h1>Lab manual</h1><h2>5. Tubes and handling</h2>"
        f"<p>The table lists each central test and its tube.</p><table><tr>{head}</tr>{body}</table></body></html>"
    )


@pytest.mark.parametrize(("name", "text"), [("Lab_Manual.md", _markdown_table()), ("Lab_Manual.html", _html_table())])
def test_a_table_row_is_quoted_under_its_column_headers_in_any_chunk_of_the_table(
    container: Container, tmp_path: Path, name: str, text: str
) -> None:
    """The rows after a chunk break keep their table's header (repeated at the top of the next chunk),
    the quote is the row and never the header alone, and the answer names the columns."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    assert container.knowledge.ingest([folder], study="LAB", kind="manual", now=NOW, progress=False).ok
    for question in ("PK tube and draw volume?", "how is the pharmacokinetics sample processed"):
        answer = container.knowledge.ask(question, studies=["LAB"], asker="u1", surface="test", record=False)
        assert not answer.abstained, question
        assert answer.citations[0].quote.startswith("Pharmacokinetics | Plain red top | 4 mL")
        assert answer.answer.startswith(
            "Test | Tube | Draw volume | Processing | Shipping\nPharmacokinetics | Plain red"
        )
    with container.factory() as s:
        chunks = s.execute(select(ChunkRow.text).where(ChunkRow.study == "LAB").order_by(ChunkRow.ordinal)).scalars()
        texts = list(chunks)
    assert len(texts) >= 2  # the table runs over a chunk break ...
    assert all(t.count("Test | Tube | Draw volume") == 1 for t in texts)  # ... and each part has its header once
    assert "|---" not in "".join(texts) and not any(line.startswith("| ") for t in texts for line in t.split("\n"))


def test_html_nested_too_deeply_fails_alone_and_the_other_files_are_ingested(
    container: Container, tmp_path: Path
) -> None:
    """Found by a probe: 100,000 nested <div>s overflowed the reader's recursion, and the traceback ended the whole
    run: a file before it was stored but never reported, the file after it never ingested."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a_first.txt").write_text("Kits are returned to the depot every Friday.\n", encoding="utf-8")
    deep = "<div>" * 100_000 + "Store kits at 2 to 8 degrees." + "</div>" * 100_000
    (folder / "b_deep.html").write_text(f"<html><body>{deep}</body></html>", encoding="utf-8")
    (folder / "c_last.txt").write_text("Courier pick-up is on Tuesdays before 11:00.\n", encoding="utf-8")
    report = container.knowledge.ingest([folder], study="DEEP", kind="manual", now=NOW, progress=False)
    status = {o.path.name: (o.status, o.detail) for o in report.outcomes}
    assert status["a_first.txt"][0] == status["c_last.txt"][0] == "ingested"
    assert status["b_deep.html"][0] == "failed" and "nested too deeply" in status["b_deep.html"][1]


def test_a_readers_unexpected_error_fails_that_file_only(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowledge.readers import html

    def broken(path: Path, limits: object) -> None:
        raise ZeroDivisionError("a reader bug")

    monkeypatch.setattr(html, "read_html", broken)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.html").write_text("<html><body><p>Kits go back on Fridays.</p></body></html>", encoding="utf-8")
    (folder / "b.txt").write_text("Courier pick-up is on Tuesdays before 11:00.\n", encoding="utf-8")
    report = container.knowledge.ingest([folder], study="BUG", kind="manual", now=NOW, progress=False)
    status = {o.path.name: (o.status, o.detail) for o in report.outcomes}
    assert status["b.txt"][0] == "ingested"
    assert status["a.html"] == ("failed", "could not be read (ZeroDivisionError); nothing of this file was stored")


def test_hidden_files_and_link_loops_are_reported_not_dropped(container: Container, tmp_path: Path) -> None:
    """Found by a probe: `.hidden.txt` was skipped without a word (the summary counted one file of two), and a
    symbolic link loop was called a broken link whose target "does not exist"."""
    folder = tmp_path / "docs"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (folder / ".git" / "HEAD").write_text("ref: main\n", encoding="utf-8")
    (folder / ".hidden.txt").write_text("Kits go back on Fridays.\n", encoding="utf-8")
    (folder / "visible.txt").write_text("Courier pick-up is on Tuesdays before 11:00.\n", encoding="utf-8")
    (folder / "loop_a.txt").symlink_to(folder / "loop_b.txt")
    (folder / "loop_b.txt").symlink_to(folder / "loop_a.txt")
    report = container.knowledge.ingest([folder], study="HID", kind="sop", now=NOW, progress=False)
    status = {o.path.name: (o.status, o.detail) for o in report.outcomes}
    assert status["visible.txt"][0] == "ingested"
    assert status[".hidden.txt"] == ("skipped", "hidden (its name starts with a dot)")
    assert status[".git"] == ("skipped", "hidden (its name starts with a dot)") and "config" not in status
    assert status["loop_a.txt"][0] == "failed" and "loop" in status["loop_a.txt"][1]
