"""Readers, headings, sentences and chunking on small generated files (no database, no model).

Also home of the tiny test corpus (`write_corpus`, `make_pdf`) that the other knowledge tests use:
a made-up study, ZX-101, so no real document text is needed.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest

from knowledge.chunking import TARGET_CHARS, chunk_blocks, page_at
from knowledge.readers import ReadError, read_document
from knowledge.readers.blocks import Block
from knowledge.readers.headings import find_headings
from knowledge.sentences import sentences

RUNNING = "ZX-101 Clinical Study Protocol Amendment 2"

PROTOCOL_PAGES = [
    [
        RUNNING,
        "Page 1 of 4",
        "1. INTRODUCTION",
        "Zelmivar (ZX-101) is an oral tablet studied in adults with chronic cough.",
    ],
    [
        RUNNING,
        "Page 2 of 4",
        "5. STUDY POPULATION",
        "5.1 Inclusion Criteria",
        "1. Participants aged 18 to 75 years at the time of signing the informed consent form.",
        "2. Body mass index of 18.0 to 32.0 kg/m2 at screening, inclusive, and stable",
        "weight for at least 3 months.",
        "5.2 Visit Schedule",
        "Visits up to Week 12 have a window of plus or minus 2 days. Visits after Week 12 have a visit window of",
        "plus or minus 5 days.",
    ],
    [
        RUNNING,
        "Page 3 of 4",
        "6. SAFETY",
        "6.1.5 Serious Adverse Event Reporting",
        "The investigator must report every serious adverse event to the sponsor within 24 hours of awareness.",
        "Serious adverse events are reported on the paper SAE form and faxed to the safety desk.",
    ],
    [
        RUNNING,
        "Page 4 of 4",
        "7. STUDY INTERVENTION",
        "7.3 Storage",
        "Store study tablets at 15 to 25 degrees Celsius in the original bottle, away from light.",
        "The pharmacist records the temperature of the storage area every working day.",
    ],
]


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal valid PDF with one text line per entry (Helvetica), enough for pypdf to extract."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objs: list[str] = ["<< /Type /Catalog /Pages 2 0 R >>", "", font]
    kids = []
    for lines in pages:
        stream = "BT /F1 10 Tf 14 TL 50 780 Td\n" + "".join(f"({esc(line)}) '\n" for line in lines) + "ET"
        objs.append(f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream")
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {len(objs)} 0 R >>"
        )
        kids.append(len(objs))
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def encrypted_pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt("secret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


SOP_MD = """---
title: SOP-7 Handling Study Drug Deliveries
---

# 1 Purpose

This SOP describes how pharmacy staff receive study drug shipments.

# 2 Receipt of Shipments

Check the temperature logger before opening the shipper. If the logger shows an excursion,
quarantine the shipment and call the sponsor depot at +1 (555) 010-2030.

| Item | Who | When |
| --- | --- | --- |
| Temperature logger check | Pharmacist | On arrival |
| Acknowledge receipt in IRT | Pharmacist | Within 1 business day |

- Record the shipment number in the drug accountability log.
- File the packing slip in the pharmacy binder.
"""


def write_corpus(folder: Path) -> Path:
    """The ZX-101 documents: a protocol PDF (4 pages), an SOP in Markdown, a DOCX manual and an HTML page."""
    import docx

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ZX101_Protocol.pdf").write_bytes(make_pdf(PROTOCOL_PAGES))
    (folder / "SOP-7_Drug_Deliveries.md").write_text(SOP_MD, encoding="utf-8")
    manual = docx.Document()
    manual.add_heading("Lab Manual ZX-101", level=0)
    manual.add_heading("3 Sample Shipping", level=1)
    manual.add_paragraph("Ship frozen PK samples on dry ice, Monday to Wednesday only.")
    manual.add_paragraph("Include the sample manifest in the box.", style="List Bullet")
    table = manual.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Sample", "Temperature"
    table.cell(1, 0).text, table.cell(1, 1).text = "PK plasma", "-70 C or colder"
    manual.save(str(folder / "ZX101_Lab_Manual.docx"))
    (folder / "Pharmacy_Hours.html").write_text(
        "<html><head><title>Pharmacy hours</title></head><body><nav>menu</nav><h1>Investigational pharmacy</h1>"
        "<p>The investigational pharmacy dispenses study drug on weekdays.</p>"
        "<ul><li>Bring the signed prescription.</li><li>Bring the participant ID card.</li></ul>"
        "<table><tr><th>Day</th><th>Hours</th></tr><tr><td>Monday</td><td>8:00 to 16:00</td></tr></table>"
        "</body></html>",
        encoding="utf-8",
    )
    return folder


def test_pdf_keeps_pages_and_numbered_headings_and_drops_running_headers(tmp_path: Path) -> None:
    path = tmp_path / "p.pdf"
    path.write_bytes(make_pdf(PROTOCOL_PAGES))
    doc = read_document(path)
    assert doc.pages == 4
    headings = [(b.section, b.page) for b in doc.blocks if b.kind == "heading"]
    assert ("6.1.5 Serious Adverse Event Reporting", 3) in headings
    assert ("5.1 Inclusion Criteria", 2) in headings
    texts = " ".join(b.text for b in doc.blocks)
    assert RUNNING not in texts and "Page 2 of 4" not in texts
    # numbered list items inside a section are items, not headings
    items = [b.text for b in doc.blocks if b.kind == "item"]
    assert any(t.startswith("2. Body mass index") and "weight for at least 3 months." in t for t in items)


def test_markdown_docx_html_sections_rows_and_items(tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "c")
    md = read_document(folder / "SOP-7_Drug_Deliveries.md")
    assert md.title == "SOP-7 Handling Study Drug Deliveries"
    assert [b.section for b in md.blocks if b.kind == "heading"] == ["1 Purpose", "2 Receipt of Shipments"]
    assert "Acknowledge receipt in IRT | Pharmacist | Within 1 business day" in [  # cells as DOCX and HTML rows
        b.text for b in md.blocks if b.kind == "row"
    ]
    assert any(b.kind == "item" and b.text.startswith("- Record the shipment") for b in md.blocks)

    manual = read_document(folder / "ZX101_Lab_Manual.docx")
    assert "3 Sample Shipping" in [b.section for b in manual.blocks if b.kind == "heading"]
    assert "PK plasma | -70 C or colder" in [b.text for b in manual.blocks if b.kind == "row"]
    assert any(b.kind == "item" and "manifest" in b.text for b in manual.blocks)

    html = read_document(folder / "Pharmacy_Hours.html")
    assert html.title == "Pharmacy hours"
    assert "menu" not in " ".join(b.text for b in html.blocks)
    assert [b.text for b in html.blocks if b.kind == "item"] == [
        "Bring the signed prescription.",
        "Bring the participant ID card.",
    ]
    assert "Monday | 8:00 to 16:00" in [b.text for b in html.blocks if b.kind == "row"]


def test_a_schedules_rows_keep_every_cell_so_each_mark_lines_up_with_its_visit(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    table = document.add_table(rows=4, cols=4)
    for r, row in enumerate(
        [
            ["Procedure", "Screening", "Day 1", "Week 4"],
            ["12-lead ECG", "X", "", "X"],
            ["Vital signs", "X", "X", "X"],
            ["Dose", "60 mg", "60 mg", "120 mg"],
        ]
    ):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    merged = document.add_table(rows=2, cols=3)
    merged.cell(0, 0).text, merged.cell(0, 1).text = "Arm", "Tablets"
    merged.cell(0, 1).merge(merged.cell(0, 2))  # one cell over two columns is read once
    merged.cell(1, 0).text, merged.cell(1, 1).text, merged.cell(1, 2).text = "A", "60 mg", "Placebo"
    document.save(tmp_path / "schedule.docx")
    rows = [b.text for b in read_document(tmp_path / "schedule.docx").blocks if b.kind == "row"]
    assert rows == [
        "Procedure | Screening | Day 1 | Week 4",
        "12-lead ECG | X |  | X",  # no ECG on Day 1: the empty cell keeps Week 4 under Week 4
        "Vital signs | X | X | X",  # a repeated mark is a visit each
        "Dose | 60 mg | 60 mg | 120 mg",
        "Arm | Tablets | ",  # a merged cell is read in its first column; the next stays empty
        "A | 60 mg | Placebo",
    ]

    (tmp_path / "schedule.html").write_text(
        "<table><tr><th>Procedure</th><th>Screening</th><th>Day 1</th><th>Week 4</th></tr>"
        "<tr><td>12-lead ECG</td><td>X</td><td></td><td>X</td></tr>"
        "<tr><td></td><td></td><td></td><td></td></tr></table>",
        encoding="utf-8",
    )
    html = [b.text for b in read_document(tmp_path / "schedule.html").blocks if b.kind == "row"]
    assert html == ["Procedure | Screening | Day 1 | Week 4", "12-lead ECG | X |  | X"]  # an empty row is no row


def test_outline_headings_build_a_section_path() -> None:
    lines = [
        "I. ",
        "INTRODUCTION ......... 1",
        "II.",
        "BACKGROUND .......... 2",  # table of contents
        "I. INTRODUCTION",
        "Some text.",
        "II. CONSENT",
        "A.",
        "General Requirements",
        "Text here.",
        "1. Short Forms",
        "1. a list item that is not a heading because it is a sentence.",
        "a.",
        "Witness",
        "More text.",
        "2. Long Forms",
        "B. Documentation",
    ]
    sections = [h.section for h in find_headings(lines)]
    assert sections == [
        "I INTRODUCTION",
        "II CONSENT",
        "II.A General Requirements",
        "II.A.1 Short Forms",
        "II.A.1.a Witness",
        "II.A.2 Long Forms",
        "II.B Documentation",
    ]


def test_sentences_respect_abbreviations_and_list_items() -> None:
    text = "Take 1 tablet, e.g. with water. Dr. Lee checks it.\n● ≥ 4 weeks for drug A;\n● ≥ 8 weeks for drug B"
    assert sentences(text) == [
        "Take 1 tablet, e.g. with water.",
        "Dr. Lee checks it.",
        "● ≥ 4 weeks for drug A;",
        "● ≥ 8 weeks for drug B",
    ]


def test_chunks_never_split_rows_or_items_and_keep_sections_and_pages() -> None:
    row = "| " + " | ".join(f"cell {i} with some text" for i in range(8)) + " |"
    blocks = [Block("heading", "4.2 Table Section", 7, section="4.2 Table Section")]
    blocks += [Block("row", f"{row} {n}", 7 + n // 10) for n in range(30)]
    blocks += [Block("heading", "4.3 Lists", 10, section="4.3 Lists")]
    blocks += [Block("item", f"- item {n} " + "word " * 40, 10) for n in range(12)]
    chunks = chunk_blocks(blocks)
    rows = {b.text for b in blocks if b.kind == "row"}
    items = {b.text for b in blocks if b.kind == "item"}
    for chunk in chunks:
        assert chunk.section in ("4.2 Table Section", "4.3 Lists")
        for part in chunk.text.split("\n\n"):
            assert part in rows or part in items or part.startswith("4.")
        assert len(chunk.text) <= TARGET_CHARS + max(len(r) for r in rows)
    assert chunks[0].text.startswith("4.2 Table Section")
    assert sum(c.text.count("| 29") for c in chunks) == 1
    # a chunk crossing a page break knows the page of each part
    crossing = next(c for c in chunks if len({p for _, p in c.page_map}) > 1)
    second = crossing.page_map[1]
    assert page_at(crossing.page_map, second[0]) == second[1]
    assert page_at(crossing.page_map, 0) == crossing.page


def test_an_faqs_question_starts_the_chunk_that_holds_its_answer() -> None:
    """A question line at the end of a full chunk says nothing there; its answer would start the next chunk."""
    blocks = [Block("heading", "3. Reimbursement", 1, section="3. Reimbursement")]
    blocks += [Block("text", "Families are reimbursed for travel. " + "word " * 150, 1)]
    blocks += [Block("text", "**Q: How quickly are families paid?**", 1)]
    blocks += [Block("text", "Payments are made within 10 business days. " + "word " * 40, 1)]
    chunks = chunk_blocks(blocks)
    assert len(chunks) == 2
    assert not chunks[0].text.rstrip().endswith("?**")
    assert chunks[1].text.startswith("**Q: How quickly are families paid?**\n\nPayments are made within 10")
    # a question that is all the chunk has besides its heading stays: no chunk is a heading alone
    alone = [blocks[0], Block("text", "**Q: Who pays? " + "word " * 170 + "?**", 1), blocks[3]]
    assert chunk_blocks(alone)[0].text.startswith("3. Reimbursement\n\n**Q: Who pays?")


PLAIN_FAQ = """ZX-101 FREQUENTLY ASKED QUESTIONS FOR SITE STAFF

==============================
SECTION A - VISITS
==============================

A1. Can screening and Day 1 be on the same day?
Yes, when the central laboratory results are back before randomization.

A2. How long does a visit take?
Plan about 90 minutes for Day 1.

==============================
SECTION B - SYSTEMS
==============================

B1. Who grants portal access?
Your CRA requests it once your training is complete.

B2. I am locked out of the EDC.
Use the Forgot password link; after three tries call the help desk on 800 555 0100.
"""

QA_FAQ = """Q1. Which courier do we use?
A1. Frozen samples go with the study's specialist courier.

Q2. What days can we ship?
A2. Monday to Wednesday only.

Q3. The courier did not come. What now?
A3. Call customer service to rebook.
"""

CRITERIA = """5.2 Exclusion Criteria

E1. Participants with a history of seizures.
E2. Participants who received a live vaccine within 4 weeks?
E3. Pregnant or breastfeeding participants.
"""


def test_a_plain_text_faqs_entries_are_sections_and_a_stated_problem_is_one_of_them(tmp_path: Path) -> None:
    """A text FAQ had no sections: its entry line "B2. I am locked out of the EDC." (no question mark) was quoted
    as the answer to a lockout question, and each chunk ran over several entries. Each entry is now a section, so
    its answer's section says what it answers and the entry line is never the answer; "A1." after "Q1." is the
    answer, not an entry; a protocol's labelled criteria are no FAQ."""
    path = tmp_path / "faq.txt"
    path.write_text(PLAIN_FAQ, encoding="utf-8")
    chunks = chunk_blocks(read_document(path).blocks)
    sections = [c.section for c in chunks]
    assert "B2. I am locked out of the EDC." in sections
    lockout = chunks[sections.index("B2. I am locked out of the EDC.")]
    assert "Forgot password" in lockout.text and "Who grants" not in lockout.text
    assert not [c for c in chunks if "=====" in c.text]
    assert "SECTION B - SYSTEMS" in [h.title for h in find_headings(PLAIN_FAQ.splitlines())]

    qa = [h.section for h in find_headings(QA_FAQ.splitlines())]
    assert qa == [
        "Q1. Which courier do we use?",
        "Q2. What days can we ship?",
        "Q3. The courier did not come. What now?",
    ]
    assert not [h for h in find_headings(CRITERIA.splitlines()) if h.label.startswith("E")]


WRAPPED_FAQ = """----------------------------------------
SECTION C - DOSING
----------------------------------------

C1. The pharmacy received the kit a day late.
    May we still dispense it?
    Yes, if the temperature logger shows no excursion. Record the
    late receipt in the accountability log.

C2. The participant vomited ten minutes after the dose. Should
    we give it again?
    No. Do not repeat the dose; record the event and give the next
    dose at the usual time.

C3. How soon must a missed dose be taken?
    Within 6 hours of the scheduled time; after that, skip it.

C4. The kit box arrived with its seal broken.
    Quarantine the kit and report it in the supply portal.
"""


def test_an_faq_question_wrapped_over_lines_is_one_entry_with_its_answer_below(tmp_path: Path) -> None:
    """A text FAQ hard-wrapped at 64 columns puts an entry's question mark on the line after its label ("C2. The
    participant vomited ... Should" / "we give it again?"). Counting only label lines that end in "?", the reader
    found no FAQ: the whole file was one section and each chunk ran over several entries. The question is now read
    to the line that ends it, and that whole question is the section; the answer below stays the body."""
    path = tmp_path / "wrapped_faq.txt"
    path.write_text(WRAPPED_FAQ, encoding="utf-8")
    chunks = chunk_blocks(read_document(path).blocks)
    by_section = {c.section: c.text for c in chunks}
    vomit = "C2. The participant vomited ten minutes after the dose. Should we give it again?"
    assert vomit in by_section
    assert "Do not repeat the dose" in by_section[vomit] and "6 hours" not in by_section[vomit]
    late = "C1. The pharmacy received the kit a day late. May we still dispense it?"
    assert "temperature logger" in by_section[late]
    assert "C4. The kit box arrived with its seal broken." in by_section  # a stated problem is an entry too
    assert "SECTION C - DOSING" in [h.title for h in find_headings(WRAPPED_FAQ.splitlines())]
    # an answer paragraph that happens to end in "?" is no part of the question above it
    long_answer = WRAPPED_FAQ.replace(
        "    Quarantine the kit", "    " + "Check the seal log. " * 20 + "Quarantine it?\n    Quarantine the kit"
    )
    headings = {h.label: h.title for h in find_headings(long_answer.splitlines())}
    assert headings["C4."] == "The kit box arrived with its seal broken."


UNLABELLED_FAQ = """Study Site FAQ, version 2

SECTION A - SHIPPING

Which days can frozen samples be shipped?
Monday to Wednesday only, so that no box sits in a depot over a weekend.

The courier did not arrive. What should we do?
Call the courier's customer service to rebook and put the box back in the freezer.

Can we reuse a dry-ice shipper?
No. Each shipment uses a new shipper from the kit supplier.

SECTION B - PAYMENTS

How are participants reimbursed for parking?
Parking is paid with the visit stipend through the participant card.
"""

QA_COLON_FAQ = """SECTION 1 - VISITS

Q: How are the visit windows counted?
A: From Day 1, the day of randomisation.

Q: Can a visit take place on a Saturday, if the participant
works during the week?
A: Yes, when the site is staffed and the samples can be kept until Monday.

Q: Do participants need to fast?
A: No fasting is needed for any sample.
"""


def test_faqs_with_q_and_a_labels_or_none_are_read_question_by_question() -> None:
    """Two more layouts of sponsors' text FAQs: "Q:" / "A:" lines, and questions on lines of their own with no
    label. Both were one section, a chunk running over several questions. Each question (read to its end when it
    wraps) is now a section with its answer, and a capitals banner standing alone between blank lines is a heading."""
    unlabelled = [h.section for h in find_headings(UNLABELLED_FAQ.splitlines())]
    assert unlabelled == [
        "SECTION A - SHIPPING",
        "Which days can frozen samples be shipped?",
        "The courier did not arrive. What should we do?",
        "Can we reuse a dry-ice shipper?",
        "SECTION B - PAYMENTS",
        "How are participants reimbursed for parking?",
    ]
    qa = [h.section for h in find_headings(QA_COLON_FAQ.splitlines())]
    assert qa == [
        "SECTION 1 - VISITS",
        "Q: How are the visit windows counted?",
        "Q: Can a visit take place on a Saturday, if the participant works during the week?",
        "Q: Do participants need to fast?",
    ]


def test_a_question_in_a_protocols_text_is_no_faq() -> None:
    """A protocol that asks a question or two in its text ("What if a dose is missed?") is not an FAQ."""
    text = "5.1 Dosing\n\nWhat if a dose is missed?\nTake it within 6 hours.\n\n5.2 Storage\n\nStore at 2-8 C.\n"
    assert [h.section for h in find_headings(text.splitlines())] == ["5.1 Dosing", "5.2 Storage"]


def _zip_with_odd_parts() -> bytes:
    """A zip whose content-types part has no namespace: python-docx fails on it with its own internals' words."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.pdf", b"", "empty file"),
        ("odd.docx", _zip_with_odd_parts(), r"a zip file, but its parts are not a Word document's \("),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "not a readable PDF"),
        ("broken.docx", b"PK\x03\x04 nope", "not a readable DOCX"),
        ("binary.txt", b"\x00\x01\x02abc", "binary content"),
        ("notes.xyz", b"hello", "unsupported file type .xyz"),
    ],
)
def test_unreadable_files_raise_a_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ReadError, match=reason):
        read_document(path)


def test_encrypted_pdf_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypted_pdf(make_pdf(PROTOCOL_PAGES[:1])))
    with pytest.raises(ReadError, match="encrypted PDF"):
        read_document(path)


def test_leaders_to_an_answer_are_kept_and_leaders_to_a_page_are_the_table_of_contents(tmp_path: Path) -> None:
    path = tmp_path / "pharmacy_manual.txt"
    path.write_text(
        "CONTENTS\n"
        "1. Contacts ................................ 2\n"
        "2. Storage ................................. iii\n"
        "Appendix B ................................. B-1\n"
        "\n"
        "1. Contacts\n"
        "\n"
        "Depot fax ........................ +1 555 0100\n"
        "Unblinding line .................. 24 hours, +1 555 0199\n"
        "\n"
        "2. Storage\n"
        "\n"
        "Keep kits at 2-8 C in the original carton.\n",
        encoding="utf-8",
    )
    blocks = read_document(path).blocks
    text = "\n".join(b.text for b in blocks)
    assert "+1 555 0100" in text and "+1 555 0199" in text  # a contact sheet's answers
    assert " 2\n" not in text + "\n" and "iii" not in text and "B-1" not in text  # the contents pages are dropped
    assert [b.section for b in blocks if b.kind == "heading"] == ["1. Contacts", "2. Storage"]  # leaders under one


@pytest.mark.parametrize(
    ("line", "contents"),
    [
        ("5.1 Inclusion Criteria ........ 22", True),
        ("5.1 Inclusion Criteria . . . . . . . . 22", True),
        ("2. STUDY OBJECTIVES ........ 2-1", True),  # chapter-page numbering
        ("Appendix 3 ........ A-12", True),
        ("Synopsis ........ xii", True),
        ("Schedule of Activities ........ 22-23", True),
        ("Abbreviations ........ p. 9", True),
        ("Dosing ··········· 14", True),
        ("Safety Reporting ........", True),  # the page number wrapped to the next line
        ("Depot fax ........ +1 555 0100", False),
        ("Room ........ B12", False),
        ("Pharmacy extension ........ 4410", False),
        ("Shirt size ........ XL", False),
        ("Signature: ____________ Date: ________", True),  # a form's blanks to fill: nothing to quote
        ("Site number: ________ (three digits)", False),
    ],
)
def test_a_contents_line_runs_its_leaders_to_a_page(line: str, contents: bool) -> None:
    from knowledge.readers.headings import toc_line

    assert toc_line(line) is contents


def test_words_table_of_contents_is_dropped_and_a_caption_row_is_no_header(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("5.1 Inclusion Criteria\t22", style=document.styles.add_style("TOC 2", 1))
    document.add_heading("5.1 Inclusion Criteria", level=2)
    document.add_paragraph("Participants aged 18 to 75 years.")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).text = "Table 2. Dosing"
    table.cell(0, 0).merge(table.cell(0, 2))
    for c, text in enumerate(["Arm", "Day 1", "Week 4"]):
        table.cell(1, c).text = text
    for c, text in enumerate(["A", "60 mg", "120 mg"]):
        table.cell(2, c).text = text
    document.save(tmp_path / "protocol.docx")
    blocks = read_document(tmp_path / "protocol.docx").blocks
    assert "\t22" not in " ".join(b.text for b in blocks)  # Word's contents, tab leaders and all
    assert [(b.kind, b.text) for b in blocks[-3:]] == [
        ("text", "Table 2. Dosing"),  # a caption over the table, not its header
        ("row", "Arm | Day 1 | Week 4"),
        ("row", "A | 60 mg | 120 mg"),
    ]


def test_an_html_table_is_laid_out_on_its_grid(tmp_path: Path) -> None:
    html = (
        "<table><tr><th colspan='4'>Table 5. Schedule</th></tr>"
        "<tr><th>Procedure</th><th>V1</th><th>V2</th><th>V3</th></tr>"
        "<tr><td>Labs</td><td colspan='2'>X</td><td>X</td></tr>"  # a mark over two visits sits under the first
        "<tr><td rowspan='2'>Chemistry</td><td>X</td><td></td><td>X</td></tr>"
        "<tr><td></td><td>X</td><td></td></tr>"  # the row below a cell spanning two rows repeats it
        "<tr><td colspan='4'>Treatment period</td></tr>"  # a band inside the table stays a row
        "<tr><td>Contacts</td><td><table><tr><td>Office</td><td>555 0100</td></tr></table></td><td></td><td></td></tr>"
        "</table><table><tr><td colspan='999999999'>x</td><td>y</td></tr></table>"
    )
    (tmp_path / "schedule.html").write_text(html, encoding="utf-8")
    blocks = read_document(tmp_path / "schedule.html").blocks
    assert [(b.kind, b.text) for b in blocks] == [
        ("text", "Table 5. Schedule"),
        ("row", "Procedure | V1 | V2 | V3"),
        ("row", "Labs | X |  | X"),
        ("row", "Chemistry | X |  | X"),
        ("row", "Chemistry |  | X | "),
        ("row", "Treatment period |  |  | "),
        ("row", "Contacts |  |  | "),
        ("row", "Office | 555 0100"),  # a nested table is read as a table of its own, once
        ("row", "x" + " | " * 50 + "y"),  # a span is capped at 50 columns
    ]


def test_decimal_headings_skip_the_toc_and_numbered_list_items() -> None:
    lines = [
        "TABLE OF CONTENTS",
        "5. STUDY POPULATION .................... 12",
        "5.1 Inclusion Criteria .................. 12",
        "5. STUDY POPULATION",
        "5.1 Inclusion Criteria",
        "1. Participants aged 18 years or older.",
        "2. Participants Able To Swallow Tablets",  # title-cased list item: not a heading (goes back to 2)
        "3. Signed consent.",
        "5.2 Exclusion Criteria",
        "1. Pregnancy.",
        "6. STUDY INTERVENTION",
        "6.1.5 Serious Adverse Event Reporting",
    ]
    sections = [h.section for h in find_headings(lines)]
    assert sections == [
        "5. STUDY POPULATION",
        "5.1 Inclusion Criteria",
        "5.2 Exclusion Criteria",
        "6. STUDY INTERVENTION",
        "6.1.5 Serious Adverse Event Reporting",
    ]


def test_text_pages_come_from_form_feeds_or_running_page_headers(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.txt"
    feeds.write_text("Intro line one.\n\fSecond page text.\n\fThird page text.\n", encoding="utf-8")
    doc = read_document(feeds)
    assert [(b.text, b.page) for b in doc.blocks] == [
        ("Intro line one.", 1),
        ("Second page text.", 2),
        ("Third page text.", 3),
    ]
    header = "Contains Nonbinding Recommendations"
    body = []
    for page in range(4, 8):
        body += [header, "", str(page), f"Body text of printed page {page}.", ""]
    marked = tmp_path / "guidance.md"
    marked.write_text("\n".join(body), encoding="utf-8")
    doc = read_document(marked)
    assert [(b.text, b.page) for b in doc.blocks] == [(f"Body text of printed page {n}.", n) for n in range(4, 8)]


def test_chat_shorthand_brands_and_typos_become_document_words() -> None:
    from knowledge.lexicon import expand
    from knowledge.study_lexicon import learn

    vocab = {t: 3 for t in ["participant", "patient", "subject", "week", "upadacitinib", "screen", "window", "visit"]}
    study = learn([("2 Introduction", "Subjects take upadacitinib (Rinvoq®) once daily.")])  # the study's own brand
    query = expand("can pts on Rinvoq skip the wk 12 vistt? scren windw", vocab, study)
    words = {c.word: {t for alt, _, _ in c.alternatives for t in alt} for c in query.concepts}
    assert "participant" in words["pts"] and "week" in words["wk"]
    assert "upadacitinib" in words["rinvoq"]
    assert words["scren"] == {"screen"} and words["windw"] == {"window"} and "visit" in words["vistt"]
    assert query.semantic_text == "patients upadacitinib skip week 12 visit screen window"


def test_a_hyphen_at_a_line_end_stays_a_hyphen_and_a_line_break(tmp_path: Path) -> None:
    """PDFium joins "End-of-" / "Study" into one line and marks the join with a control character;
    the reader prints it as the page does, so neither "End-ofStudy" nor a stray \\x02 is ever quoted."""
    path = tmp_path / "visits.pdf"
    path.write_bytes(
        make_pdf([["5.2 Visits", "Patients attend an End-of-", "Study visit 30 days after the last dose."]])
    )
    body = next(b.text for b in read_document(path).blocks if b.kind != "heading")
    assert body == "Patients attend an End-of-\nStudy visit 30 days after the last dose."


def test_a_pdf_protected_only_against_printing_is_read(tmp_path: Path) -> None:
    """Encrypted with an empty user password (print-restricted protocols): read, by the pypdf path."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(PROTOCOL_PAGES[:1]))))
    writer.encrypt("", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    path = tmp_path / "restricted.pdf"
    path.write_bytes(buf.getvalue())
    text = " ".join(b.text for b in read_document(path).blocks)
    assert PROTOCOL_PAGES[0][-1] in text


def test_pdfs_read_from_many_threads_at_once_read_the_same(tmp_path: Path) -> None:
    """PDFium is not thread-safe, not even across documents: concurrent ingests must not crash or mix pages."""
    from concurrent.futures import ThreadPoolExecutor

    paths = []
    for n in range(4):
        path = tmp_path / f"p{n}.pdf"
        path.write_bytes(make_pdf([[f"Document {n} page {p}", *PROTOCOL_PAGES[p % 2]] for p in range(6)]))
        paths.append(path)
    expected = {p: [b.text for b in read_document(p).blocks] for p in paths}
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda p: (p, [b.text for b in read_document(p).blocks]), paths * 6))
    assert all(blocks == expected[p] for p, blocks in results)


@pytest.mark.parametrize(
    ("dictionary", "reason"),
    [
        (b"<< /Length 10 /Filter /LZWDecode >>", "LZW"),
        (b"<< /Length 10 /Filter [/ASCII85Decode /RunLengthDecode] >>", "RunLength"),
        (b"<< /Length 10 /Filter 7 0 R >>", "indirect"),
    ],
)
def test_streams_the_check_cannot_bound_send_the_file_to_pypdf(dictionary: bytes, reason: str) -> None:
    from knowledge.readers.pdf_streams import check_streams

    data = b"%PDF-1.4\n4 0 obj\n" + dictionary + b"\nstream\n0123456789\nendstream\nendobj\n"
    check = check_streams(data, 1024)
    assert check.needs_pypdf and reason in check.needs_pypdf and not check.over_limit
    image = data.replace(b"<< /Length", b"<< /Subtype /Image /Length")
    assert check_streams(image, 1024).needs_pypdf is None  # images are not decoded to read text


def test_a_correctly_spelled_word_the_documents_lack_is_not_turned_into_another_word() -> None:
    """ "at night" is not a typo of "light": an English word the documents never use stays itself (and
    counts as asked about something the documents do not say). A swap of letters ("trail" for "trial")
    and a British spelling ("colour" where the documents say "color") are still read as the documents'
    word; a misspelling that is no English word ("inclusoin") still is, too."""
    from knowledge.lexicon import expand

    vocab = {t: 3 for t in ["light", "fridge", "alarm", "trial", "color", "inclusion", "call"]}
    query = expand("who do I call if the fridge alarm goes off at night?", vocab)
    words = {c.word: c for c in query.concepts}
    assert "light" not in query.weights and "light" not in query.semantic_text.split()
    assert words["night"].unknown and not words["night"].alternatives
    fixed = expand("what colour is the trail inclusoin label", vocab)
    assert fixed.semantic_text.split() == ["color", "trial", "inclusion", "label"]


def test_a_sentence_break_reads_only_the_words_before_it_for_an_abbreviation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by a probe: a 5 MB one-line Markdown file never finished ingesting. Every sentence break handed the
    whole text before it to the abbreviation check (a regex anchored at its end, scanned from its start), so a long
    paragraph cost the square of its length. Each check now reads a short window; the sentences are the same."""
    from knowledge import sentences as module

    seen: list[int] = []
    check = module._ends_with_abbreviation

    def measured(text: str) -> bool:
        seen.append(len(text))
        return check(text)

    monkeypatch.setattr(module, "_ends_with_abbreviation", measured)
    text = "Subjects fast for 8 hours, e.g. from midnight. The coordinator records it. " * 400
    spans = module.sentence_spans(text)
    assert len(spans) == 800 and text[spans[0][0] : spans[0][1]] == "Subjects fast for 8 hours, e.g. from midnight."
    assert max(seen) <= module.ABBREVIATION_WINDOW


def test_utf16_text_is_read_with_or_without_a_byte_order_mark() -> None:
    """Found by a probe: Windows' "Unicode" text files were refused as "binary content, not text"."""
    from knowledge.readers.blocks import ReadError
    from knowledge.readers.text import decode

    text = "Store kits at 2–8 °C.\nReturn them on Fridays.\n"
    assert decode(text.encode("utf-16")) == text  # with a BOM
    assert decode(text.encode("utf-16-le")) == text
    assert decode(text.encode("utf-16-be")) == text
    with pytest.raises(ReadError, match="binary"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


def test_faq_reader_holds_against_a_probes_layouts() -> None:
    """Found by a probe: a capitals "YES" inside an answer became the answer's section; a labelled question over 240
    characters was missed (its answer cited under the entry before); a protocol's three questionnaire lines made it
    an FAQ."""
    caps = "Q1. Can the ECG be repeated?\nYES\n\nOnce, within the window.\n\nQ2. Who reads it?\nThe central reader.\n\n"
    caps += "Q3. Is a paper copy kept?\nNO - NEVER\n\nOnly the upload counts.\n"
    assert [h.section for h in find_headings(caps.splitlines())] == [
        "Q1. Can the ECG be repeated?",
        "Q2. Who reads it?",
        "Q3. Is a paper copy kept?",
    ]
    question = (
        "B3. "
        + "If the participant has already been dosed from a kit that was later voided in error, " * 3
        + "what now?"
    )
    faq = f"B1. Who orders kits?\nThe site.\n\nB2. Can a voided kit be reused?\nNo.\n\n{question}\nCall the helpdesk.\n"
    assert [h.label for h in find_headings(faq.splitlines())] == ["B1.", "B2.", "B3."]
    protocol = "\n\n".join(
        [
            "3.1 Screening Visit",
            "Consent is signed before any procedure. Vital signs are taken seated. An ECG is recorded in triplicate.",
            "Central laboratory samples are drawn fasting. Results are reviewed by the investigator before Day 1.",
            "3.2 Pre-dose Questionnaire",
            "Is the participant currently pregnant or breastfeeding?\nYes / No",
            "Has the participant had a fever in the last 24 hours?\nYes / No",
            "Has any new medicine been started since the last visit?\nYes / No",
            "If any answer is Yes, the dose is withheld and the medical monitor is contacted.",
            "3.3 Dosing",
            "The tablet is taken with water. Food is allowed. The time is recorded in the diary.",
            "The participant stays at the site for one hour. Blood pressure is measured at 30 and 60 minutes.",
            "Any vomiting within 30 minutes is recorded. The dose is not repeated.",
            "3.4 Discharge",
            "The participant leaves when vital signs are stable. The next visit is booked before leaving.",
        ]
    )
    assert [h.section for h in find_headings(protocol.splitlines())] == [
        "3.1 Screening Visit",
        "3.2 Pre-dose Questionnaire",
        "3.3 Dosing",
        "3.4 Discharge",
    ]


def _heaviest_by_scan(cands: list) -> list:
    """The plain O(n^2) scan the heading finder used before session 34, as the reference (whole-number weights,
    as the finder's are: sums are exact, so chains of equal weight tie)."""
    best, prev = [0] * len(cands), [-1] * len(cands)
    for i, (key, weight, _) in enumerate(cands):
        best[i] = weight
        for j in range(i):
            if cands[j][0] < key and best[j] + weight > best[i]:
                best[i], prev[i] = best[j] + weight, j
    chain, i = [], max(range(len(cands)), key=lambda n: best[n]) if cands else -1
    while i >= 0:
        chain.append(cands[i][2])
        i = prev[i]
    return chain[::-1]


def test_the_section_number_chain_is_the_plain_scans_on_any_numbering() -> None:
    from knowledge.readers.headings import _heaviest_increasing

    rng = random.Random(34)
    for _ in range(2000):
        cands = [
            (tuple(rng.randint(1, 4) for _ in range(rng.randint(1, 3))), rng.choice([5, 3]), n)
            for n in range(rng.randint(0, 60))
        ]
        assert _heaviest_increasing(cands) == _heaviest_by_scan(cands)


def test_a_schedules_marks_are_quoted_but_not_searched() -> None:
    """A schedule row keeps every cell for the quote (its marks line up with the header's visits), but the keyword
    and vector indexes read it without empty cells and bare marks: twenty "X |  |" cells made the chunk look long
    to BM25 and filled MiniLM's window, and a schedule's rows were found less often than when the marks were
    dropped at reading (session 34)."""
    from knowledge.catalog import embedding_text, searched_text

    chunk = "Procedure | Scr | D1 | Wk 4\n\n12-lead ECG | X |  | (X)\n\nDose | 60 mg | 60 mg | 120 mg\n\nKeep at 2-8 C."
    assert (
        searched_text(chunk)
        == "Procedure | Scr | D1 | Wk 4\n\n12-lead ECG\n\nDose | 60 mg | 60 mg | 120 mg\n\nKeep at 2-8 C."
    )
    assert searched_text("| 3 | 1.2 × 10^14 |  | 6 |") == "3 | 1.2 × 10^14 | 6"  # a Markdown row's outer pipes
    assert embedding_text("8.1 Schedule", "ECG | X | X") == "8.1 Schedule\nECG"
    assert searched_text("No table here, x marks the spot.") == "No table here, x marks the spot."


def test_a_word_table_nested_in_a_cell_is_read_after_its_row(tmp_path: Path) -> None:
    """A contact sheet's numbers in a table inside a cell were lost: the cell's own paragraphs are empty, and the
    nested table was never read (found by a probe, session 34). Its rows follow the row that holds it, once."""
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text, table.cell(1, 0).text = "Role", "Contact", "Pharmacy"
    inner = table.cell(1, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "Office", "+1 555 0100"
    document.save(tmp_path / "contacts.docx")
    rows = [b.text for b in read_document(tmp_path / "contacts.docx").blocks if b.kind == "row"]
    assert rows == ["Role | Contact", "Pharmacy | ", "Office | +1 555 0100"]


def test_a_contents_entry_whose_leaders_wrap_does_not_take_the_body_headings_place(tmp_path: Path) -> None:
    """A contents entry whose leaders and page sit on the next line ("1. INTRODUCTION" / ".......... 4"): the
    leader lines were dropped before headings were looked for, so the contents' titles became the headings and the
    body's own "1. INTRODUCTION" could no longer follow them; every body paragraph fell under the last contents
    entry (a probe's file, session 34)."""
    path = tmp_path / "protocol.txt"
    contents = "".join(f"{n}. {t}\n.......... {p}\n" for n, t, p in [(1, "INTRODUCTION", 4), (2, "OBJECTIVES", 6)])
    path.write_text(
        f"CONTENTS\n{contents}\n1. INTRODUCTION\n\nIntro text.\n\n2. OBJECTIVES\n\nAims.\n", encoding="utf-8"
    )
    blocks = read_document(path).blocks
    assert [(b.kind, b.text) for b in blocks[-4:]] == [  # the body's own headings over its text
        ("heading", "1. INTRODUCTION"),
        ("text", "Intro text."),
        ("heading", "2. OBJECTIVES"),
        ("text", "Aims."),
    ]
