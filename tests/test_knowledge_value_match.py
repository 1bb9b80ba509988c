"""A participant's value held against the limits a sentence states (knowledge.value_match)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from knowledge.answer import candidate_table
from knowledge.answer_model import shipped_model
from knowledge.value_match import question_values, value_fit
from siteline.container import Container

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("question", "values"),
    [
        ("pt on the high dose, K+ 5.8 at wk4 visit - what do we do with IP?", (5.8,)),
        ("got a 63yo referred to us, is there an age floor?", (63.0,)),
        ("BP 184/96 at screening, auto screen fail?", (184.0, 96.0)),
        ("ANC came back 1.2 on C3D1, ok to dose?", (1.2,)),
        ("what's the 1st dose reduction for QRT-5518?", ()),  # an ordinal and a drug code
        ("the wk 12 visit in 2024 - window?", ()),  # a visit label and a year
    ],
)
def test_question_values_are_the_participants_numbers(question: str, values: tuple[float, ...]) -> None:
    assert question_values(question) == values


def test_the_row_whose_limits_the_value_falls_in_fits_best() -> None:
    """Word overlap cannot tell these rows apart; the value can (5.8 is in the second)."""
    values = question_values("K+ 5.8 at the week 4 visit")
    rows = ["> 5.0 to ≤ 5.5 | 20 mg | Reduce", "> 5.5 to ≤ 6.0 | Reduce to 10 mg", "> 6.0 | Interrupt"]
    fits = [value_fit(row, values)[0] for row in rows]
    assert fits == [0.5, 1.0, 0.0]


def test_a_limit_the_value_misses_is_still_near_it() -> None:
    values = question_values("a 63yo, is there an age floor?")
    assert value_fit("Subject is 65 years of age or older", values) == (0.0, 1.0)
    assert value_fit("Haemoglobin of at least 9 g/dL", values) == (0.0, 0.0)  # another scale, another topic
    assert value_fit("Subject is 65 years of age or older", ()) == (0.0, 0.0)  # no value asked about


PROTOCOL = """# XY-300 Protocol

## 6.3 Dose Modification for Hyperkalaemia

Serum potassium is measured at every visit and the dose is adjusted as follows.

| Serum potassium (mmol/L) | Action with study intervention |
| --- | --- |
| > 5.0 to ≤ 5.5 | Continue the current dose and repeat serum potassium within 72 hours |
| > 5.5 to ≤ 6.0 | Reduce to 10 mg once daily and repeat serum potassium within 72 hours |
| > 6.0 | Interrupt study intervention and contact the medical monitor |

## 7.1 Blood Pressure

Systolic blood pressure must be below 160 mmHg before each dose of study intervention.
"""


def test_the_sentence_model_ranks_the_row_the_value_falls_in_above_its_neighbours(
    container: Container, tmp_path: Path
) -> None:
    """The three rows share every word a question can use; the shipped sentence model now ranks the row whose limits
    5.8 falls in first. (The reader's second look may still prefer a neighbour: it does not read numbers.)"""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "XY300_Protocol.md").write_text(PROTOCOL, encoding="utf-8")
    report = container.knowledge.ingest([docs], study="XY-300", kind="protocol", now=NOW, progress=False)
    assert report.ok
    question = "pt's K+ came back 5.8 at the wk 4 visit - what do we do with the IP?"
    table = candidate_table(question, container.knowledge.search(question, studies=["XY-300"], k=8))
    ranked = [table.quotes[i] for i in np.argsort(-shipped_model().scores(table.sentences), kind="stable")]
    rows = [q for q in ranked if q.startswith(">")]
    assert rows[0].startswith("> 5.5 to ≤ 6.0 | Reduce to 10 mg")
    assert value_fit(rows[0], question_values(question)) == (1.0, 1.0)


def test_a_pasted_wall_of_numbers_is_read_only_as_far_as_a_question_goes() -> None:
    """A 35,000-character paste of numbers took 53 s to read (each number looked back over everything before it).
    Only the first QUESTION_SPAN characters are a question's, and only MAX_VALUES values count."""
    from knowledge.value_match import MAX_VALUES, QUESTION_SPAN

    wall = " ".join(str(n % 97 + 1) for n in range(12_000))
    assert len(question_values(wall)) == MAX_VALUES
    assert question_values("x" * QUESTION_SPAN + " K+ 5.8") == ()


def test_value_reader_holds_against_a_probes_inputs() -> None:
    """Found by a probe: "1,500" was read as 1.5 (so "ANC 1200" never met "≥ 1,500/µL"), a 400-digit number became
    infinity (near every number), and a document line of 8,000 digits took 8 s (every digit began a match)."""
    assert question_values("ANC 1,200 today") == (1200.0,)
    assert value_fit("ANC ≥ 1,500/µL", question_values("ANC 1200")) == (0.0, 1.0)
    assert value_fit("platelets ≥ 100,000/µL", question_values("platelets 95000")) == (0.0, 1.0)
    assert question_values("9" * 400) == ()
    assert value_fit("Window 1,5 days", (1.5,)) == (0.0, 1.0)  # a decimal comma stays a decimal
    digits = "reference code " + "7" * 8000 + " or more"
    assert value_fit(digits, (5.0,)) == (0.0, 0.0)  # read only as far as a sentence goes, from whole numbers
