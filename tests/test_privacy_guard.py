"""The PHI guard on the messages staff actually write: what is removed, what survives, what the user is told."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from privacy import Finding, PhiGuard, Redaction, default_guard
from privacy.philter_layer import chunks
from privacy.tagging import LexiconTagger
from privacy.vocabulary import safe_spans


@pytest.fixture(scope="module")
def guard() -> PhiGuard:
    return default_guard()


def spans(text: str, r: Redaction) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in r.findings]


def test_the_issue_example_loses_name_mrn_and_dob(guard: PhiGuard) -> None:
    text = "pt John Smith MRN 88412937 DOB 3/14/61"
    r = guard.redact(text)
    assert r.text == "pt [NAME] MRN [MRN] DOB [DOB]"
    assert spans(text, r) == [("NAME", "John Smith"), ("MRN", "88412937"), ("DOB", "3/14/61")]
    assert r.changed


def test_lower_case_chat_and_trial_words_in_one_message(guard: PhiGuard) -> None:
    text = "pt john smith mrn 88412937 dob 3/14/61 - is he still eligible for ORION-301 Week 12?"
    r = guard.redact(text)
    assert r.text == "pt [NAME] mrn [MRN] dob [DOB] - is he still eligible for ORION-301 Week 12?"


@pytest.mark.parametrize(
    "text",
    [
        "Corvexa 30 mg QD at Week 4 per protocol ORION-301 v3.0; S-BOS is still waiting on the IP shipment",
        "Can someone confirm the Day -7 window for M15-554? Section 8.3.1 says labs at screening.",
        "subject 1002-004 completed Week 12, upadacitinib 15 mg QD continued",
        "NCT03104374: orvalizumab 300 mg IV q4w, ALT 2.8x ULN at C1D1 - hold per 8.3.1?",
        "Protocol amendment 4 dated 12 Jan 2025 changed the Week 52 visit to optional",
        "Will the sponsor cover Crohn's disease index training? Mark the AE resolved in EDC.",
        "Kit numbers 100234 and 100235 were dispensed; lot 23B117 expires 2026-01",
        "Could the Week 8 sample for 1002-004 be shipped with the Day 1 samples at 3 PM?",
        # found by a probe: philter's "travel to <place>" pattern took the visit for an address
        "Is taxi travel to clinic visits paid back to participants?",
        "Do participants travel to site visits by taxi or by bus?",
        # and the place itself, with whatever word follows ("site on", "clinic tomorrow")
        "can the participant travel to site on monday?",
        "She travels to the clinic tomorrow for the Week 8 visit",
        "Does the sponsor pay for travel to the infusion center on weekends?",
    ],
)
def test_clinical_trial_talk_passes_untouched(guard: PhiGuard, text: str) -> None:
    r = guard.redact(text)
    assert r.text == text and r.findings == () and not r.changed and r.notice() == ""


def test_findings_point_into_the_original_text(guard: PhiGuard) -> None:
    text = "Patricia Sullivan SSN 078-05-1120 DOB 01/15/1955 phone 617-555-0110, email pat.s@example.org"
    r = guard.redact(text)
    assert spans(text, r) == [
        ("NAME", "Patricia Sullivan"),
        ("SSN", "078-05-1120"),
        ("DOB", "01/15/1955"),
        ("PHONE", "617-555-0110"),
        ("EMAIL", "pat.s@example.org"),
    ]
    assert r.text == "[NAME] SSN [SSN] DOB [DOB] phone [PHONE], email [EMAIL]"
    assert all(isinstance(f, Finding) for f in r.findings)


def test_notice_names_the_kinds_gently(guard: PhiGuard) -> None:
    r = guard.redact("pt John Smith MRN 88412937 DOB 3/14/61")
    assert r.notice() == (
        "To protect patient privacy I removed names, medical record numbers and dates of birth from your "
        "message before saving or using it. Please refer to participants by their study subject number instead."
    )
    assert "email addresses" in guard.redact("write to ann.lee@example.com").notice()
    assert guard.redact("Week 12 labs?").notice() == ""


def test_dates_are_phi_only_about_a_person(guard: PhiGuard) -> None:
    assert guard.redact("IRB approval came through on 2025-03-11").text == "IRB approval came through on 2025-03-11"
    assert guard.redact("she was admitted 2025-03-11").text == "she was admitted [DATE]"
    assert guard.redact("subject 1002-004 was seen on 4/2").text == "subject 1002-004 was seen on [DATE]"
    assert guard.redact("1002-004's Week 12 window is 3/14-3/20").text == "1002-004's Week 12 window is [DATE]"
    assert (
        guard.redact("The Week 12 window is 3/14-3/20 for cohort 2").text
        == "The Week 12 window is 3/14-3/20 for cohort 2"
    )
    assert guard.redact("DOB 7/4/1956, can you check eligibility?").text == "DOB [DOB], can you check eligibility?"
    # a year alone and a weekday are never identifiers
    assert (
        guard.redact("Mrs. Nakamura enrolled in 2024, back Thursday").text
        == "Mrs. [NAME] enrolled in 2024, back Thursday"
    )


def test_ages_over_89_only(guard: PhiGuard) -> None:
    assert guard.redact("Ruth Goldberg is 95 and still dosing").text == "[NAME] is [AGE] and still dosing"
    assert guard.redact("pt is 71 yo, 88 kg").text == "pt is 71 yo, 88 kg"
    assert guard.redact("can we enroll a 92 year old?").text == "can we enroll a [AGE] year old?"


def test_names_in_the_shapes_chat_uses(guard: PhiGuard) -> None:
    cases = {
        "Smith, John - needs re-consent": "[NAME] - needs re-consent",
        "ms o'brien called again": "ms [NAME] called again",
        "Jean-Pierre Dufour's labs are back": "[NAME]'s labs are back",
        "José Núñez called": "[NAME] called",
        "Hannah O'Neill's husband Patrick drove her": "[NAME]'s husband [NAME] drove her",
        "Can you check if Li Na Wu signed?": "Can you check if [NAME] signed?",
        "Mr. Ng and Ms. Li came for Week 4": "Mr. [NAME] and Ms. [NAME] came for Week 4",
        "subject 1001-002, initials M.R., screen failed": "subject 1001-002, initials [NAME], screen failed",
        "Patient Reported Outcome forms: EQ-5D-5L, PHQ-9": "Patient Reported Outcome forms: EQ-5D-5L, PHQ-9",
        "<@U012ABCDE> is pt Maria Alvarez on the list?": "<@U012ABCDE> is pt [NAME] on the list?",
    }
    for text, expected in cases.items():
        assert guard.redact(text).text == expected, text


def test_addresses_urls_and_ips(guard: PhiGuard) -> None:
    r = guard.redact("send it to 418 Maple Ave, Apt 3B, Somerville MA 02144 or see https://portal.example.org/p/123")
    assert r.text == "send it to [ADDRESS] or see [URL]"
    assert guard.redact("login from 192.168.14.77 failed").text == "login from [IP] failed"
    assert guard.redact("she lives in Quincy, MA 02169").text == "she lives in [ADDRESS]"


def test_a_long_paste_is_redacted_piece_by_piece_with_the_right_offsets(guard: PhiGuard) -> None:
    one = "Visit note: pt Maria Alvarez called from 617-555-0142 about Week 12. "
    text = one * 30  # ~2,000 characters: philter-lite runs on ~400-character pieces
    assert len(chunks(text)) > 1
    r = guard.redact(text)
    assert r.text == "Visit note: pt [NAME] called from [PHONE] about Week 12. " * 30
    assert {text[f.start : f.end] for f in r.findings} == {"Maria Alvarez", "617-555-0142"}


def test_redaction_is_thread_safe(guard: PhiGuard) -> None:
    texts = [f"pt Maria Alvarez MRN 8841{n:04d} Week {n}" for n in range(40)]
    sequential = [guard.redact(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(guard.redact, texts))
    assert parallel == sequential


def test_the_original_text_is_never_logged_or_printed(
    guard: PhiGuard, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    guard.redact("pt Zebediah Quarrington MRN 99887766")
    out = capsys.readouterr()
    assert "Quarrington" not in caplog.text + out.out + out.err
    assert "99887766" not in caplog.text + out.out + out.err


def test_default_guard_is_one_per_process_and_bad_input_is_named() -> None:
    assert default_guard() is default_guard()
    assert default_guard().redact("") == Redaction(text="", findings=())
    with pytest.raises(TypeError, match="needs a str, got NoneType"):
        default_guard().redact(None)  # type: ignore[arg-type]


def test_redaction_refuses_overlapping_findings() -> None:
    from privacy.redaction import apply

    with pytest.raises(ValueError, match="overlapping findings"):
        apply("John Smith", [Finding("NAME", 0, 6), Finding("NAME", 4, 10)])


def test_tagger_answers_philters_two_questions() -> None:
    tagger = LexiconTagger(frozenset({"mark", "the", "ae", "as", "will", "brown", "courier"}))
    tokens = ["Mark", " ", "the", " ", "AE", " ", "12", " ", "Mark", " ", "Brown", " ", "john", " ", "smith"]
    tags = dict(enumerate(t for _w, t in tagger.tag(tokens)))
    assert tags[0] == "NN"  # sentence-initial common word
    assert tags[4] == "NN" and tags[6] == "CD"  # acronym, number
    assert tags[8] == tags[10] == "NNP"  # "Mark Brown"
    assert tags[12] == tags[14] == "NNP"  # lower-case name pair


def test_vocabulary_spans_cover_trial_words() -> None:
    text = "ORION-301 Week 12 Day -7 S-BOS per 8.3.1 15 mg QD NCT03104374 subject 1002-004 Crohn's disease"
    covered = {text[s:e] for s, e in safe_spans(text)}
    for word in ("ORION-301", "Week 12", "Day -7", "S-BOS", "per 8.3.1", "15 mg QD", "NCT03104374", "Crohn's"):
        assert word in covered, word
    # an eponym's head noun does not shield a patient's surname after a title
    assert not any("Alvarez" in text2[s:e] for text2 in ["Mrs. Alvarez's score"] for s, e in safe_spans(text2))


def test_philter_lite_runs_on_our_tagger_not_nltks_downloadable_model(guard: PhiGuard) -> None:
    """philter-lite==0.6.0's one POS call is replaced; if a new version moves it, this fails first."""
    import philter_lite.philter as engine

    tagged = engine._get_pos("pt john smith 12")
    assert [t for t in tagged if not t[0].isspace()] == [("pt", "NN"), ("john", "NNP"), ("smith", "NNP"), ("12", "CD")]


@pytest.mark.parametrize(
    "text",
    [
        "how do I unblind a participant in an emergency?",
        "Should I call the CRA first?",
        "I'm not sure, can I rescreen?",
    ],
)
def test_the_pronoun_i_is_never_taken_for_a_name(text: str) -> None:
    assert default_guard().redact(text).text == text


def test_skipping_regex_filters_that_match_nothing_finds_what_philter_finds_with_all_of_them() -> None:
    """The layer runs only the regex filters that the `regex` engine finds somewhere in the text: the others
    would map nothing, and no context filter reads a regex filter's map. Same findings as philter-lite's own
    run (the `re` engine) over every filter, on every case of the PHI set."""
    import json
    from pathlib import Path

    import philter_lite

    from privacy.philter_layer import KINDS, PhilterLayer

    layer = PhilterLayer()
    cases = [json.loads(line)["text"] for line in (Path(__file__).parent / "data" / "phi_cases.jsonl").open()]
    assert len(cases) > 100
    for text in cases:
        _i, _e, tracker = philter_lite.detect_phi(text, layer._filters, phi_type_list=KINDS)
        everything = sorted((p.phi_type, p.start, p.stop) for p in tracker.phi if p.phi_type in KINDS)
        assert sorted((f.kind, f.start, f.end) for f in layer.detect(text)) == everything, text
