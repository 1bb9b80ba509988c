"""Repeats merge into what a site already has; look-alikes and other studies never do."""

from __future__ import annotations

from datetime import date

import pytest

from tests.triage_world import World, ids, items
from triage.dedupe import same_topic
from triage.fingerprint import fingerprint
from triage.policy import load_policy

P = load_policy().dedupe
ISF = "Please make sure the investigator site file is complete before the close-out visit on 2026-03-16."
STOP = "Quality found cracked bottles in lot L5744. Stop dispensing it now and keep it in quarantine."


def repeats(a: tuple[str, str], b: tuple[str, str], due_a: date | None = None, due_b: date | None = None) -> bool:
    old = fingerprint(*a, P.state_words)
    new = fingerprint(*b, P.state_words)
    return same_topic(new, due_b, old.core, sorted(old.keys), due_a, P) is not None


@pytest.mark.parametrize(
    "wrapped",
    [
        ("Reminder: ISF review before the close-out visit", f"Friendly reminder, this is still open.\n\n{ISF}"),
        ("2nd reminder: ISF review before the close-out visit", f"Just a reminder in case you missed it.\n\n{ISF}"),
        ("REMINDER - ISF review before the close-out visit", ISF),
        ("FW: ISF review before the close-out visit", f"Forwarding the sponsor's message below.\n\n{ISF}"),
        ("Fwd: ISF review before the close-out visit",
         f"Please see the message below.\n\nFrom: sm-1\nSent: Monday 2 March 2026 10:14\nSubject: ISF review\n\n{ISF}"),
        ("[Resend] ISF review before the close-out visit", ISF),
        ("ISF review before the close-out visit", f"{ISF}\n\nBest regards,\nThe study team"),
    ],
)  # fmt: skip
def test_reminders_resends_forwards_and_copies_are_repeats(wrapped: tuple[str, str]) -> None:
    assert repeats(("ISF review before the close-out visit", ISF), wrapped)


@pytest.mark.parametrize(
    "lookalike",
    [
        ("Stop dispensing bottle lot L5745", STOP.replace("L5744", "L5745")),  # a new lot
        ("Stop dispensing bottle lot L5744", STOP + " Return the kits by 2026-03-20."),  # a new date
        ("Open queries", "18 queries are open. Please close them by 2026-03-20."),  # vs 38 queries
        ("Stop dispensing bottle lot L5744", STOP.replace("Stop dispensing it now", "You may resume dispensing")),
        ("Stop dispensing bottle lot L5744", STOP.replace("cracked bottles", "cracked caps")),  # a different word
    ],
)
def test_new_numbers_dates_lots_or_words_are_new_topics(lookalike: tuple[str, str]) -> None:
    original = ("Open queries", "38 queries are open. Please close them by 2026-03-20.")
    if "lot" in lookalike[0]:
        original = ("Stop dispensing bottle lot L5744", STOP)
    assert not repeats(original, lookalike)


def test_different_due_dates_are_different_requests() -> None:
    a = ("Site survey", "Please answer our survey.")
    assert repeats(a, a, date(2026, 3, 17), date(2026, 3, 17))
    assert not repeats(a, a, date(2026, 3, 17), date(2026, 3, 24))


def test_sponsor_and_cro_copies_merge_into_the_pending_item(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T10:00:00Z", id="m1", subject="ISF review before the close-out visit", body=ISF,
           due="2026-03-16")  # fmt: skip
    d = w.send("2026-03-02T11:00:00Z", id="m2", org="cro", **{"from": "cra-1"},
               subject="FW: ISF review before the close-out visit",
               body=f"Forwarding the sponsor's message below.\n\n{ISF}", due="2026-03-16")  # fmt: skip
    assert {s.outcome for s in d.sites} == {"merged"} and {s.carrier for s in d.sites} == {"m1"}
    w.advance("2026-03-04T00:00:00Z")
    digests = w.out("digest")
    assert sorted(m.recipient for m in digests) == ["S01", "S02", "S03"]
    for m in digests:
        assert items(m) == [{"id": "m1", "priority": "action", "reason": "request due 2026-03-16", "merged": ["m2"]}]
        assert m.payload["details"]["m1"]["subject"] == "ISF review before the close-out visit"


def test_a_repeat_of_a_delivered_item_is_recorded_as_suppressed(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T07:35:00Z", id="m1", subject="Stop dispensing bottle lot L5744", body=STOP)
    w.advance("2026-03-02T07:35:00Z")
    assert [m.recipient for m in w.out("immediate")] == ["S01", "S02", "S03"]
    d = w.send("2026-03-02T08:08:00Z", id="m2", subject="FW: Stop dispensing bottle lot L5744",
               body=f"Forwarding the sponsor's message below.\n\n{STOP}")  # fmt: skip
    assert {(s.outcome, s.carrier) for s in d.sites} == {("suppressed", "m1")}
    w.advance("2026-03-02T08:08:00Z")
    suppressed = w.out("suppressed")
    assert [(m.recipient, m.payload["items"]) for m in suppressed] == [
        (s, [{"id": "m2", "duplicate_of": "m1"}]) for s in ("S01", "S02", "S03")
    ]
    assert len(w.out("immediate")) == 3  # nobody was interrupted twice


def test_never_across_studies_and_never_after_the_window(factory) -> None:
    w = World(factory)
    office = {"subject": "Our office is moving", "body": "The study team moves to a new office next month."}
    w.send("2026-03-02T10:00:00Z", id="a1", study="ALPHA", sites=["S01"], **office)
    d = w.send("2026-03-02T11:00:00Z", id="b1", study="BETA", sites=["S01"], **office)
    assert [s.outcome for s in d.sites] == ["digest"]  # same words, other study: its own item
    w.advance("2026-03-03T08:00:00Z")
    assert ids(w.out("digest", "S01")[0]) == ["a1", "b1"]
    d = w.send("2026-03-09T09:59:00Z", id="a2", study="ALPHA", sites=["S01"], **office)
    assert [s.outcome for s in d.sites] == ["suppressed"]  # within 7 days of a1
    d = w.send("2026-03-09T10:01:00Z", id="a3", study="ALPHA", sites=["S01"], **office)
    assert [s.outcome for s in d.sites] == ["digest"]  # more than 7 days after a1: news again


def test_a_repeat_reaching_a_new_site_is_delivered_there(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T10:00:00Z", id="m1", sites=["S01"], subject="Newsletter 12", body="News from the team.")
    d = w.send("2026-03-02T11:00:00Z", id="m2", sites="all", subject="Newsletter 12", body="News from the team.")
    assert {s.site_id: s.outcome for s in d.sites} == {"S01": "merged", "S02": "digest", "S03": "digest"}


def test_an_urgent_repeat_of_a_pending_item_goes_out_at_once(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T10:00:00Z", id="m1", sites=["S01"], subject="Kits from shipment SH-1",
           body="Kits from shipment SH-1 arrived at the depot.")  # fmt: skip
    # The same topic again, now with words that make it urgent, is not the same message.
    d = w.send("2026-03-02T11:00:00Z", id="m2", sites=["S01"], subject="Kits from shipment SH-1",
               body="Kits from shipment SH-1 arrived at the depot.", declared_priority="urgent")  # fmt: skip
    assert [s.outcome for s in d.sites] == ["merged"]  # a declared flag alone changes nothing
    w.advance("2026-03-02T11:00:00Z")
    assert w.out("immediate") == []


# --- real-world wrappers and rewordings (see tests/scenarios/blind_wording.py for a whole scenario)

LOT = ("KESTREL-204 – do not dispense kits from lot KB-24-0917",
       "Dear Pharmacists,\n\nA stability test of lot KB-24-0917 returned an out-of-specification result. Please do "
       "not dispense kits from lot KB-24-0917 until further notice; keep them segregated at 2–8 °C and set them to "
       "'Quarantined' in IWRS.\n\nKind regards,\nClinical Supply Team\nNorthwind Oncology")  # fmt: skip
OUTLOOK = "From: Supply <supply@example.org>\nSent: Tuesday, March 24, 2026 9:00 AM\nTo: Sites\nSubject: lot\n\n"
GMAIL = "---------- Forwarded message ---------\nFrom: Supply <s@example.org>\nDate: Tue, 24 Mar 2026 at 20:00\n" \
        "Subject: lot\nTo: <sites@example.org>\n\n"  # fmt: skip


def relays(a: tuple[str, str], b: tuple[str, str], study: str = "KESTREL-204") -> bool:
    old = fingerprint(*a, P.state_words, study)
    new = fingerprint(*b, P.state_words, study)
    return same_topic(new, None, old.core, sorted(old.keys), None, P) is not None


@pytest.mark.parametrize(
    "repeat",
    [
        ("FW: " + LOT[0], "Hi all,\n\nPlease see below from the sponsor.\n\nThanks,\nMeera\n\n" + OUTLOOK + LOT[1]),
        ("Fwd: " + LOT[0], "Forwarding in case this went to spam.\n\nLiam\n\n" + GMAIL + LOT[1]),
        ("RE: FW: " + LOT[0], "All,\nPlease confirm receipt to your CRA.\n\n-----Original Message-----\n" + OUTLOOK
         + LOT[1]),
        ("Fwd: " + LOT[0], "Hi Grace, see below.\n\nBegin forwarded message:\n\nFrom: Supply\nSubject: lot\nDate: 24 "
         "March 2026\nTo: Pharmacists\n\n" + LOT[1]),
        ("Gentle reminder: " + LOT[0], "Gentle reminder, see the note below.\n\n> " + LOT[1].replace("\n", "\n> ")),
        ("2nd REMINDER – " + LOT[0], "2nd reminder!! Still open.\n\n" + LOT[1]),
        ("[Resend] " + LOT[0], "Resending in case you missed it.\n\n" + LOT[1]),
        ("URGENT!!! " + LOT[0], LOT[1].replace("Kind regards,\nClinical Supply Team", "Cheers,\nAna")),
        ("!!! Reminder !!! " + LOT[0] + " – only 2 days left", LOT[1]),
        ("RE: " + LOT[0], "+1 to the note below.\n\nOn Tue, 24 Mar 2026 at 09:00, Supply <s@example.org> wrote:\n> "
         + LOT[1].replace("\n", "\n> ")),
        # a CRO's rewrite: same facts, other words, greeting and signature
        ("KESTREL-204: lot KB-24-0917 on hold at your pharmacy",
         "Dear Dr. Rao and team,\n\nThe sponsor has informed us that lot KB-24-0917 showed an out-of-specification "
         "result in stability testing. Kindly do not dispense any kit from this lot until further notice: keep them "
         "segregated at 2–8 °C and mark them as quarantined in IWRS.\n\nWarm regards,\nArjun Mehta\nCRA"),
    ],
)  # fmt: skip
def test_forwards_replies_reminders_and_rewrites_in_the_wild_are_repeats(repeat: tuple[str, str]) -> None:
    assert relays(LOT, repeat)


AM3 = ("Protocol Amendment 3 (v4.0) – implementation",
       "Protocol Amendment 3 (protocol version 4.0) has been approved. Please submit it to your ethics committee and "
       "send the submission confirmation to your CRA by 10 April 2026.")  # fmt: skip


@pytest.mark.parametrize(
    "lookalike",
    [
        ("FW: Protocol Amendment 4 (v5.0) – implementation", AM3[1].replace("3", "4").replace("4.0", "5.0")),
        ("Reminder: Protocol Amendment 3 (v4.0) – implementation", AM3[1].replace("10 April", "17 April")),
        ("FW: Protocol Amendment 3 (v4.0) – implementation", AM3[1] + " The approval was withdrawn on 2 April."),
        ("Reminder: Protocol Amendment 3 (v4.0) – implementation", AM3[1].replace("approved", "rejected")),
        # one topic word swapped in an otherwise identical reminder: a look-alike, not a repeat
        ("Reminder: Protocol Amendment 3 (v4.0) – implementation", AM3[1].replace("ethics committee", "pharmacy")),
        # a forward whose note brings a new date is new news, whatever it quotes
        ("FW: Protocol Amendment 3 (v4.0) – implementation",
         "Note: the deadline is now 24 April.\n\n" + OUTLOOK + AM3[1]),
    ],
)  # fmt: skip
def test_relayed_lookalikes_with_another_number_date_or_word_are_new_topics(lookalike: tuple[str, str]) -> None:
    assert not relays(AM3, lookalike)


def test_keys_are_canonical_whatever_the_wording() -> None:
    from triage.keys import keys_of

    assert keys_of("by 10 April 2026") == keys_of("by April 10") == keys_of("no later than Friday 2026-04-10")
    assert keys_of("Pharmacy Manual v6.0") == keys_of("pharmacy manual version 6.0") == {"n:6.0"}
    assert keys_of("a 30-minute module") == keys_of("a 30 min module") == {"n:30"}
    assert keys_of("the March 2026 newsletter") == {"m:03"} != keys_of("the April 2026 newsletter")
    assert keys_of("cut-off at 12:00 noon") == {"t:12:00"}
    assert keys_of("SAE case MAR-0217 for MARLIN-115", ignore=["MARLIN-115"]) == {"mar-0217"}
    assert keys_of("2nd reminder: two items\n1. one\n2. two") == frozenset()  # ordinals, list numbers, words
    assert keys_of("Recruitment may resume", flip_words=["resume"]) == {"flip:resume"}
    # a reminder's countdown and a reply's "+1" are not facts; a phone number is
    assert keys_of("Only 2 days left (deadline 30 October)") == keys_of("deadline 30 October") == {"d:10-30"}
    assert keys_of("+1 to the note below") == frozenset() != keys_of("call +1 800 555 0199")


def test_a_forward_is_split_into_its_note_and_the_innermost_original() -> None:
    from triage.wrappers import split_forward, strip_letter

    fwd = split_forward("Adding a note.\n\n____\n" + OUTLOOK + "Please see below.\n\n" + GMAIL + LOT[1])
    assert fwd.original == LOT[1] and "Adding a note." in fwd.note
    assert strip_letter(LOT[1]).startswith("A stability test") and strip_letter(LOT[1]).endswith("in IWRS.")
    assert split_forward("Just a message.\nNo quote.") == type(fwd)("Just a message.\nNo quote.", "")
