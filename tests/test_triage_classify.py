"""Priority judgment: content decides, the sender's urgent flag is only a hint, safety is never lowered."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from triage.classify import Classifier, Judgment, SenderRecord
from triage.policy import PolicyError, load_policy

POLICY = load_policy()


def judge(subject: str, body: str = "", *, due: date | None = None, declared: str | None = None,
          record: SenderRecord = SenderRecord(), classifier: Classifier | None = None) -> Judgment:  # fmt: skip
    c = classifier or Classifier(POLICY)
    return c.judge(subject=subject, body=body, due=due, declared=declared, sender="s1", record=record)


@pytest.mark.parametrize(
    ("subject", "body", "rule"),
    [
        ("SUSAR notification SU-123", "A suspected unexpected serious adverse reaction was reported.", "safety_event"),
        ("Participant death", "A participant died at home; file the SAE form.", "safety_event"),
        ("Dosing paused in cohort 3", "Dosing in cohort 3 is paused with immediate effect.", "urgent_safety_measure"),
        ("Urgent safety measure", "Liver tests before every dose from Monday.", "urgent_safety_measure"),
        ("Recall of study drug lot L1234", "The manufacturer is recalling lot L1234.", "ip_integrity"),
        ("Temperature excursion at depot", "Kits were exposed to 31 °C.", "ip_integrity"),
        ("Lot L5744", "Stop dispensing it now and keep it in quarantine.", "ip_integrity"),
        ("Enrolment on hold", "Screening and randomisation are on hold from 2026-03-04.", "enrolment_hold"),
        ("Please stop screening", "Do not consent new participants.", "enrolment_hold"),
        ("Emergency unblinding", "Emergency unblinding is now done in the IWRS only.", "emergency_unblinding"),
        # other wordings of the same kinds of message
        ("Suspend dosing", "All participants: suspend dosing until further notice.", "urgent_safety_measure"),
        ("DSMB recommendation", "The DSMB recommends pausing enrolment.", "urgent_safety_measure"),
        ("Amendment pending", "No new patients may be enrolled until approval.", "enrolment_hold"),
        ("Kits affected by a temperature deviation", "Keep them aside.", "ip_integrity"),
        ("Depot incident", "The freezer failed overnight; kits affected.", "ip_integrity"),
        ("Batch B7", "Place all kits from batch B7 on hold.", "ip_integrity"),
        ("Important safety information", "New hepatotoxicity findings.", "safety_event"),
        ("IWRS outage", "How to unblind a participant in an emergency.", "emergency_unblinding"),
    ],
)
def test_safety_ip_enrolment_and_unblinding_are_urgent(subject: str, body: str, rule: str) -> None:
    j = judge(subject, body)
    assert (j.priority, j.rule, j.protected) == ("urgent", rule, True)
    assert j.reason  # says why, e.g. "IP integrity: ... (“quarantine”)"


def test_a_request_with_a_due_date_is_action_and_the_rest_fyi() -> None:
    j = judge("Open queries", "38 queries are open. Please close them.", due=date(2026, 3, 8))
    assert (j.priority, j.reason) == ("action", "request due 2026-03-08")
    j = judge("Survey", "Please answer our survey by 2026-03-17.")  # the date is only in the text
    assert j.priority == "action" and "2026-03-17" in j.reason
    j = judge("Training", "Please finish the module before 15 April 2026.")
    assert j.priority == "action" and "15 April 2026" in j.reason
    assert judge("Our office is moving", "The study team moves next month.").priority == "fyi"
    assert judge("First participant randomized", "The first participant was randomized.").priority == "fyi"
    assert judge("Quarterly newsletter", "Recruitment figures, new sites and conferences.").priority == "fyi"
    # Safety words in routine admin are not emergencies; past events in a routine text neither.
    assert judge("SAE reconciliation", "Please reconcile SAEs by 2026-03-10.").priority == "action"
    assert judge("Newsletter", "This month: SAE reporting refresher webinar.").priority == "fyi"
    assert judge("Follow-up visits", "Participants who discontinued treatment attend follow-up.").priority == "fyi"


def test_declared_urgent_is_a_hint_only() -> None:
    # Routine content marked urgent stays routine, and the reason says the flag was not followed.
    j = judge("Our office is moving", "New address next month.", declared="urgent")
    assert j.priority == "fyi" and "not confirmed" in j.reason
    # A sender who rarely says urgent, on a text that asks for immediate action, is believed.
    j = judge("Call the hotline", "Please call the sponsor hotline immediately.", declared="urgent",
              record=SenderRecord(updates=10, declared_urgent=1))  # fmt: skip
    assert (j.priority, j.rule) == ("urgent", "declared_urgent")
    # The same text without the flag is not urgent: the cue alone interrupts nobody.
    assert judge("Call the hotline", "Please call the sponsor hotline immediately.").priority == "fyi"
    # A cue only in the wrapper ("URGENT reminder:") is not the message asking for immediate action.
    c = Classifier(POLICY)
    j = c.judge(subject="URGENT reminder: Survey", body="Please answer.", due=None, declared="urgent", sender="s",
                record=SenderRecord(10, 1), core="Survey\nPlease answer.")  # fmt: skip
    assert j.priority == "fyi"


def test_a_sender_who_marks_everything_urgent_does_not_flood_sites() -> None:
    c = Classifier(POLICY)
    flooder = SenderRecord(updates=20, declared_urgent=19)
    assert c.is_flooding(flooder)
    j = judge("Newsletter", "Please read it immediately!", declared="urgent", record=flooder, classifier=c)
    assert j.priority == "fyi" and "95%" in j.reason
    # ...but a real safety message from the same sender is still urgent: content decides.
    assert judge("SAE follow-up", "Send the SAE form now.", declared="urgent", record=flooder).priority == "urgent"
    # Too little history to call it flooding.
    assert not c.is_flooding(SenderRecord(updates=2, declared_urgent=2))


def test_declared_low_never_lowers_safety() -> None:
    j = judge("Temperature excursion", "Kits exposed to 14 °C; quarantine them.", declared="low")
    assert j.priority == "urgent"


class _Refiner:
    def __init__(self, priority: str) -> None:
        self.priority = priority

    def refine(self, *, subject: str, body: str, judgment: Judgment) -> Judgment | None:
        return Judgment(self.priority, "model says so", "llm", judgment.protected)


def test_the_llm_may_refine_but_never_downgrade_a_safety_rule() -> None:
    down = Classifier(POLICY, _Refiner("fyi"))
    assert judge("SUSAR notification", "A SUSAR was reported.", classifier=down).priority == "urgent"
    # A non-safety judgment can be changed either way.
    assert judge("Office move", "New office next month.", classifier=Classifier(POLICY, _Refiner("action"))).priority \
        == "action"  # fmt: skip
    assert judge("Survey", "Answer by 2026-03-17.", classifier=down).priority == "fyi"
    up = Classifier(POLICY, _Refiner("urgent"))
    assert judge("Office move", "New office next month.", classifier=up).priority == "urgent"


def test_llm_replies_are_parsed_defensively() -> None:
    from triage.refine import parse_reply

    base = Judgment("fyi", "for information", "fyi")
    assert parse_reply('{"priority": "action", "reason": "asks for a form"}', base).priority == "action"
    assert parse_reply('sure! ```{"priority": "urgent"}```', base).priority == "urgent"
    assert parse_reply('{"priority": "critical"}', base) is None
    assert parse_reply("no json here", base) is None
    assert parse_reply('{"priority": "fyi"}', base) is None  # agreeing changes nothing


def test_a_sponsor_policy_file_is_validated_with_the_field_named(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("urgent_rules:\n  - id: x\n    reason: y\n    patterns: ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(PolicyError, match=r"urgent_rules\.0\.patterns.*bad regular expression"):
        load_policy(bad)
    good = tmp_path / "ok.yaml"
    good.write_text("urgent_rules:\n  - id: nuclear\n    reason: 'site evacuation'\n    patterns: ['evacuat']\n",
                    encoding="utf-8")  # fmt: skip
    custom = Classifier(load_policy(good))
    assert custom.judge(subject="Evacuate the ward", body="", due=None, declared=None, sender="s",
                        record=SenderRecord()).rule == "nuclear"  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "body", "rule"),
    [
        ("KESTREL-204 – do not dispense kits from lot KB-24-0917",
         "Please do not dispense kits from this lot. No safety concern has been identified.", "ip_integrity"),
        ("Field safety notice: inhaler batch DV-3312", "Stop using inhalers from batch DV-3312.", "ip_integrity"),
        ("Cold-chain breach – shipment 5531", "The logger shows a cold-chain breach.", "ip_integrity"),
        ("Out-of-specification temperature at the depot", "Affects lot MR-7782.", "ip_integrity"),
        ("Temporary halt to recruitment", "Recruitment is temporarily halted.", "enrolment_hold"),
        ("FDA clinical hold", "The IND was placed on clinical hold.", "urgent_safety_measure"),
        ("Dear Investigator letter — urgent safety measure", "ECG before each dose.", "safety_event"),
        ("Unblinding required – participant 204-1107", "Please unblind the participant in IWRS now.",
         "emergency_unblinding"),
        ("Participant death reported", "A participant death has been reported.", "safety_event"),
        ("Ethics approval lapsed", "Until the renewal, no new participants may be consented.", "enrolment_hold"),
        ("New SAE reported", "An SAE was reported at your site yesterday; call the medical monitor.", "safety_report"),
        ("Product complaint: syringes, lot OS-5521", "Kits from lot OS-5521 must be held and not administered.",
         "ip_integrity"),
        ("New contraindication", "Participants with active uveitis must not receive study drug.", "safety_event"),
        ("Uveitis", "Patients with active uveitis can no longer receive the study drug.", "urgent_safety_measure"),
    ],
)  # fmt: skip
def test_urgent_content_in_unusual_words(subject: str, body: str, rule: str) -> None:
    assert (judge(subject, body).priority, judge(subject, body).rule) == ("urgent", rule)


@pytest.mark.parametrize(
    ("subject", "body", "priority"),
    [
        # a keyword is not an emergency in every context
        ("IWRS maintenance on Saturday 7 March", "IWRS is unavailable 02:00-06:00 UTC. Emergency unblinding remains "
         "available through the IWRS Helpdesk.", "fyi"),
        ("Monitoring visit 17-18 March: please confirm", "Please confirm by 12 March. I will review the SAE log and IP "
         "accountability.", "action"),
        ("SAE case MAR-0217 – follow-up information requested", "Thank you for the initial report of SAE case "
         "MAR-0217 (hospitalisation for AF). Please provide the discharge summary within 5 business days.", "action"),
        ("Protocol Amendment 4: QTc monitoring", "It makes the QTc monitoring introduced by the urgent safety measure "
         "of 30 March part of the protocol. Please submit it to your EC by 30 April.", "action"),
        ("New IMP lot MR-7790 released", "Lot MR-7790 is released. Lot MR-7782 remains in quarantine.", "fyi"),
        ("ANZ pharmacy teleconference", "Agenda: IRT returns and the MR-7782 quarantine status.", "fyi"),
        # shouting that is not urgent, and dates that are (or are not) asked for
        ("URGENT!!! newsletter", "Great news from the region!", "fyi"),
        ("IMPORTANT: holiday schedule", "Sessions uploaded that week will be over-read by Wednesday 8 April. No "
         "action is needed from you.", "fyi"),
        ("ASAP: please update your contact list", "Could you please send me your site contact list by 2 April?",
         "action"),
        ("eCRF data entry", "Please enter all data no later than COB Friday 10 April.", "action"),
        ("Pharmacy Manual v6.0", "Please complete the read-and-acknowledge within 5 business days.", "action"),
        ("ISF filing", "Please file the EC letter in the ISF before my visit on 14 April.", "action"),
        ("Newsletter", "Good practice: file the source documents within 5 days of the scan.", "fyi"),
        ("Vials released", "QA released the vials. Please remove the 'Do not use' labels.", "fyi"),
        ("Monitoring visit – SAE source verification", "I will verify the source of two SAEs.", "fyi"),
        ("Paper diaries", "Sites will no longer receive paper diaries from the depot.", "fyi"),
    ],
)  # fmt: skip
def test_context_decides_over_keywords(subject: str, body: str, priority: str) -> None:
    assert judge(subject, body).priority == priority, judge(subject, body).reason


def test_urgent_in_a_subject_alone_is_not_a_cue_for_a_declared_urgent_flag() -> None:
    rare = SenderRecord(updates=10, declared_urgent=1)
    assert judge("URGENT!!! recruitment leaderboard", "Great news team!", declared="urgent", record=rare).priority \
        == "fyi"  # fmt: skip
    assert judge("Call us", "Please call the sponsor hotline as soon as possible.", declared="urgent",
                 record=rare).priority == "urgent"  # fmt: skip


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Holiday arrangements", "The emergency unblinding line stays open as usual over the holidays."),
        ("Office closure 24-26 December", "Our office is closed from 24 to 26 December. The emergency unblinding "
         "line stays open as usual over the holidays; the IxRS helpdesk answers 24/7."),
        ("Site move next week", "As a reminder, the 24-hour safety hotline and the emergency unblinding service "
         "remain in place during the move."),
        ("Newsletter", "In this issue: recruitment figures, and the emergency unblinding procedure is described in "
         "the IxRS manual, section 7."),
        ("Pharmacy manual v3", "The pharmacy manual v3 describes how to handle a temperature excursion and when "
         "to quarantine kits."),
        ("Investigator meeting", "Slides from the investigator meeting are attached, including the section on "
         "emergency unblinding and SUSAR reporting."),
    ],
)  # fmt: skip
def test_an_update_that_only_mentions_a_safety_term_does_not_interrupt(subject: str, body: str) -> None:
    """Issue 10 item 15: urgency comes from what the update asks the site to do, not the words it mentions
    (rules and the nearest-example signal both)."""
    got = judge(subject, body, classifier=Classifier(POLICY))  # with the shipped examples
    assert got.priority != "urgent", got.reason


@pytest.mark.parametrize(
    ("subject", "body", "rule"),
    [
        ("Emergency unblinding required", "Participant 1042 needs emergency unblinding now: please call the IxRS "
         "line immediately.", "emergency_unblinding"),
        ("Unblinding line down", "The emergency unblinding line is down. Until it is restored, use the backup "
         "number for any emergency unblinding.", "emergency_unblinding"),
        ("Emergency unblinding", "Emergency unblinding stays available, but from today you must use the IWRS, "
         "not the phone line.", "emergency_unblinding"),
        ("Temperature excursion", "Kits were exposed to 31 °C; as usual, quarantine them now and call the "
         "depot.", "ip_integrity"),
    ],
)  # fmt: skip
def test_the_same_terms_in_a_sentence_that_asks_for_something_stay_urgent(subject: str, body: str, rule: str) -> None:
    assert (judge(subject, body).priority, judge(subject, body).rule) == ("urgent", rule)
