"""The engine through storage: urgent at once, digests at local slots in order, decisions stored first."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.clock import iso
from core.db import transaction
from core.directory import upsert
from core.domain import Site
from core.models import AuditRow, DeliveryRow, SiteRow
from tests.triage_world import SITES, World, ids, items
from triage import stats
from triage.audience import UpdateRejected
from triage.models import ItemRow, SiteStateRow, UpdateRow
from triage.schemas import UpdateIn
from triage.service import PreferencesError, TriageService


def test_urgent_goes_at_once_even_at_night_and_the_rest_waits_for_the_local_slot(factory) -> None:
    w = World(factory)
    # 02:00 in Paris (quiet hours): a lot in quarantine interrupts anyway.
    w.send("2026-03-02T01:00:00Z", id="u1", subject="Lot L1 quarantine", body="Quarantine lot L1 now.")
    w.send("2026-03-02T01:05:00Z", id="f1", subject="Newsletter 3", body="News from the study team.")
    w.advance("2026-03-02T01:05:00Z")
    assert [(m.recipient, ids(m)) for m in w.out("immediate")] == [("S01", ["u1"]), ("S02", ["u1"]), ("S03", ["u1"])]
    assert w.out("digest") == []
    w.advance("2026-03-03T00:00:00Z")
    when = {m.recipient: m for m in w.out("digest")}
    # Paris 08:30 (07:30Z), Chicago 09:00 (15:00Z), Singapore 14:00 (06:00Z; its 08:30 had passed).
    assert {r: m.payload["slot"] for r, m in when.items()} == {
        "S01": "2026-03-02T07:30:00Z",
        "S02": "2026-03-02T15:00:00Z",
        "S03": "2026-03-02T06:00:00Z",
    }
    assert all(ids(m) == ["f1"] for m in when.values())


def test_digest_lists_action_first_by_due_date_then_fyi(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T09:00:00Z", id="f1", sites=["S01"], subject="Office move", body="We move next month.")
    w.send("2026-03-02T09:01:00Z", id="a2", sites=["S01"], subject="Survey", body="Please answer.", due="2026-03-20")
    w.send("2026-03-02T09:02:00Z", id="f2", sites=["S01"], subject="Poster P1", body="Poster P1 accepted.")
    w.send("2026-03-02T09:03:00Z", id="a1", sites=["S01"], subject="Queries", body="Close 5 queries.", due="2026-03-08")
    w.advance("2026-03-04T00:00:00Z")
    digest = w.out("digest", "S01")
    assert len(digest) == 1 and ids(digest[0]) == ["a1", "a2", "f1", "f2"]
    assert [i["priority"] for i in items(digest[0])] == ["action", "action", "fyi", "fyi"]


def test_an_empty_slot_sends_nothing_and_a_site_with_nothing_pending_has_no_timer(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T09:00:00Z", id="u1", sites=["S01"], subject="Recall of lot L9", body="Lot L9 is recalled.")
    w.advance("2026-03-05T00:00:00Z")
    assert [m.kind for m in w.notifier.sent] == ["immediate"]
    with transaction(factory) as s:
        assert s.execute(select(SiteStateRow.next_digest_at).where(SiteStateRow.site_id == "S01")).scalar() is None


def test_two_digest_times_and_quiet_hours(factory) -> None:
    w = World(factory)
    # Singapore digests at 08:30 and 14:00, quiet 20:00-07:00 local.
    w.send("2026-03-02T02:00:00Z", id="f1", sites=["S03"], subject="Poster P2", body="Poster P2 accepted.")  # 10:00
    w.send("2026-03-02T07:00:00Z", id="f2", sites=["S03"], subject="Poster P3", body="Poster P3 accepted.")  # 15:00
    w.advance("2026-03-04T00:00:00Z")
    assert [(m.payload["slot"], ids(m)) for m in w.out("digest", "S03")] == [
        ("2026-03-02T06:00:00Z", ["f1"]),  # 14:00 the same day
        ("2026-03-03T00:30:00Z", ["f2"]),  # 08:30 the next morning, not during the quiet evening
    ]


def test_digests_follow_dst_spring_forward(factory) -> None:
    ny = Site(site_id="NY", tz="America/New_York", studies=["ALPHA"], digest_times=["09:00"],
              quiet_hours=["19:00", "07:00"])  # fmt: skip
    w = World(factory, sites=[ny])
    for n, day in enumerate(("2026-03-06", "2026-03-07", "2026-03-08", "2026-03-09")):
        w.send(f"{day}T02:00:00Z", id=f"f{n}", subject=f"Poster P{n}", body=f"Poster P{n} accepted.")
    w.advance("2026-03-10T00:00:00Z")
    assert [m.payload["slot"] for m in w.out("digest")] == [
        "2026-03-06T14:00:00Z",
        "2026-03-07T14:00:00Z",
        "2026-03-08T13:00:00Z",  # EDT from 8 March: still 09:00 on the wall
        "2026-03-09T13:00:00Z",
    ]


def test_preferences_move_a_waiting_digest_and_are_validated(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T09:00:00Z", id="f1", sites=["S01"], subject="Poster P4", body="Poster P4 accepted.")
    from core.settings import Settings

    service = TriageService(factory, Settings(_env_file=None), w.clock, w.engine)
    assert service.preferences("S01").next_digest_at is not None
    prefs = service.set_preferences("S01", digest_times=["16:00"], quiet_hours=["19:00", "07:00"], actor="t")
    assert iso(prefs.next_digest_at) == "2026-03-02T15:00:00Z"  # 16:00 Paris today, not 08:30 tomorrow
    w.advance("2026-03-03T12:00:00Z")
    assert [m.payload["slot"] for m in w.out("digest", "S01")] == ["2026-03-02T15:00:00Z"]
    with pytest.raises(PreferencesError, match="falls in quiet hours"):
        service.set_preferences("S01", digest_times=["06:00"], quiet_hours=["19:00", "07:00"], actor="t")
    with pytest.raises(PreferencesError, match="not a HH:MM"):
        service.set_preferences("S01", digest_times=["8h30"], quiet_hours=None, actor="t")
    with pytest.raises(PreferencesError, match="not in the directory"):
        service.set_preferences("S99", digest_times=["08:30"], quiet_hours=None, actor="t")
    with transaction(factory) as s:
        assert s.execute(select(func.count()).select_from(AuditRow).where(AuditRow.action == "triage.preferences")
                         ).scalar() == 1  # fmt: skip


def test_a_slot_made_stale_by_a_directory_change_is_re_armed_not_used(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T09:00:00Z", id="f1", sites=["S01"], subject="Poster P5", body="Poster P5 accepted.")
    with transaction(factory) as s:  # a directory import changes S01's digest time behind triage's back
        upsert(s, [SITES[0].model_copy(update={"digest_times": ["10:00"]})], [])
    w.advance("2026-03-04T00:00:00Z")
    # The 08:30 slot (07:30Z) no longer exists: the digest goes at the next 10:00 (09:00Z).
    assert [m.payload["slot"] for m in w.out("digest", "S01")] == ["2026-03-03T09:00:00Z"]


def test_every_decision_is_stored_with_its_reason_before_anything_is_sent(factory) -> None:
    w = World(factory)
    w.send("2026-03-02T09:00:00Z", id="u1", subject="SUSAR SU-1", body="A SUSAR was reported.")
    with transaction(factory) as s:
        update = s.execute(select(UpdateRow).where(UpdateRow.update_id == "u1")).scalar_one()
        assert update.priority == "urgent" and "SUSAR" in update.reason
        rows = s.execute(select(ItemRow).order_by(ItemRow.site_id)).scalars().all()
        assert [(r.site_id, r.status) for r in rows] == [("S01", "queued"), ("S02", "queued"), ("S03", "queued")]
        assert all(r.reason.startswith("safety") for r in rows)
        deliveries = s.execute(select(DeliveryRow).order_by(DeliveryRow.recipient)).scalars().all()
        assert [(d.recipient, d.status) for d in deliveries] == [("S01", "pending"), ("S02", "pending"),
                                                                 ("S03", "pending")]  # fmt: skip
        audit = s.execute(select(AuditRow).where(AuditRow.action == "triage.update")).scalar_one()
        assert audit.detail["decided"]["priority"] == "urgent" and audit.detail["received"]["from"] == "sm-1"
    assert w.notifier.sent == []  # stored, not yet sent
    w.advance("2026-03-02T09:00:00Z")
    assert len(w.out("immediate")) == 3


def test_a_resubmitted_id_is_idempotent_and_bad_sites_store_nothing(factory) -> None:
    w = World(factory)
    first = w.send("2026-03-02T09:00:00Z", id="m1", sites=["S01"], subject="Survey", body="Answer.", due="2026-03-09")
    again = w.send("2026-03-02T09:30:00Z", id="m1", sites=["S01"], subject="Survey", body="Answer.", due="2026-03-09")
    assert not first.already_received and again.already_received
    assert [(s.site_id, s.outcome) for s in again.sites] == [("S01", "digest")]
    with pytest.raises(UpdateRejected, match="unknown site"):
        w.send("2026-03-02T10:00:00Z", id="m2", sites=["S01", "S77"], subject="x")
    with pytest.raises(UpdateRejected, match="not on study BETA"):
        w.send("2026-03-02T10:00:00Z", id="m3", study="BETA", sites=["S02"], subject="x")
    with transaction(factory) as s:
        assert s.execute(select(func.count()).select_from(UpdateRow)).scalar() == 1
        assert s.execute(select(func.count()).select_from(ItemRow)).scalar() == 1


def test_preview_decides_without_storing(factory) -> None:
    w = World(factory)
    from core.settings import Settings

    service = TriageService(factory, Settings(_env_file=None), w.clock, w.engine)
    w.send("2026-03-02T09:00:00Z", id="m1", subject="Newsletter 7", body="News.")
    fw = {"id": "m2", "from": "cra-1", "org": "cro", "study": "ALPHA", "sites": "all", "subject": "FW: Newsletter 7",
          "body": "News."}  # fmt: skip
    d = service.preview(UpdateIn.model_validate(fw))
    assert d.priority == "fyi" and {(s.outcome, s.carrier) for s in d.sites} == {("merged", "m1")}
    with transaction(factory) as s:
        assert s.execute(select(func.count()).select_from(UpdateRow)).scalar() == 1


def test_stats_count_noise_interruptions_latency_and_sender_rates(factory) -> None:
    w = World(factory)
    for n in range(4):  # a CRA who marks everything urgent
        w.send(f"2026-03-02T09:0{n}:00Z", id=f"c{n}", org="cro", sites=["S01"], declared_priority="urgent",
               subject=f"Newsletter {n}", body="News.", **{"from": "cra-x"})  # fmt: skip
    w.send("2026-03-02T10:00:00Z", id="r1", sites=["S01"], subject="FW: Newsletter 1", body="News.",
           **{"from": "cra-x"})  # fmt: skip
    w.send("2026-03-02T23:00:00Z", id="u1", sites=["S01"], subject="Lot L2 recall", body="Lot L2 is recalled.")
    w.advance("2026-03-04T00:00:00Z")
    with transaction(factory) as s:
        report = stats.build(s, now=w.clock.now(), days=30, classifier=w.engine.classifier)
    s01 = next(x for x in report.sites if x.site_id == "S01")
    assert (s01.raw_updates, s01.delivered_messages, s01.digests, s01.interruptions) == (6, 2, 1, 1)
    assert s01.merged == 1 and s01.quiet_hour_interruptions == 1  # 00:00 in Paris
    assert s01.noise_ratio == pytest.approx(2 / 6, abs=0.001) and s01.urgent_latency_max_s == 0
    cra = next(x for x in report.senders if x.sender == "cra-x")
    assert (cra.updates, cra.declared_urgent, cra.judged_urgent, cra.hint_ignored) == (5, 4, 0, True)
    assert report.to_json()["totals"]["raw_updates"] == 6


def test_directory_sites_table_is_not_changed_by_triage(factory) -> None:
    World(factory).send("2026-03-02T09:00:00Z", id="m1", subject="Poster P9", body="Poster P9 accepted.")
    with transaction(factory) as s:
        assert s.execute(select(SiteRow.digest_times).where(SiteRow.site_id == "S01")).scalar() == ["08:30"]
