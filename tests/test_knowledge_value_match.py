"""A participant's value held against the limits a sentence states (knowledge.value_match)."""

from __future__ import annotations

import pytest

from knowledge.value_match import question_values, value_fit


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
