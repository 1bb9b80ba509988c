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
