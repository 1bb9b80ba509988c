"""The dashboard's figures on a small seeded world, and what each role may see (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.directory import Directory
from core.settings import Settings
from dashboard.figures import overview, percentile, site360
from dashboard.scope import NotAllowed, Viewer
from tests.dashboard_world import END, seed
from triage.plugin import build_engine

CLASSIFIER = build_engine(Settings(_env_file=None)).classifier


def view(factory: sessionmaker[Session], person_id: str) -> dict[str, Any]:
    with transaction(factory) as s:
        viewer = Viewer.of(Directory(s).person(person_id))  # type: ignore[arg-type]
        return overview(s, viewer, now=END, days=30, classifier=CLASSIFIER)


def sites_of(data: dict[str, Any]) -> dict[str, list[str]]:
    return {st["study"]: [r["site_id"] for r in st["sites"]] for st in data["studies"]}


def test_the_overview_figures(factory: sessionmaker[Session]) -> None:
    seed(factory)
    data = view(factory, "head")
    assert sites_of(data) == {"ALPHA": ["S01", "S02", "S03"], "BETA": ["S01"]}
    alpha = data["studies"][0]
    s01, s02, s03 = alpha["sites"]
    # recall (urgent, at once), newsletter + its forward (merged), lab manual: 4 pairs, 3 messages
    assert (s01["raw_updates"], s01["delivered_messages"], s01["interruptions"], s01["merged"]) == (4, 3, 1, 1)
    assert s01["saved_messages"] == 1 and s01["noise_ratio"] == 0.75
    assert s02["quiet_hour_interruptions"] == 1  # 10:00 UTC is 04:00 in Chicago
    for row in alpha["sites"]:
        assert sum(w["immediate"] + w["digest"] for w in row["weeks"].values()) == row["delivered_messages"]
    assert s01["questions"] == {"asked": 2, "answered": 1, "abstained": 1, "helpful": 1, "not_helpful": 0}
    assert s02["questions"]["not_helpful"] == 1
    assert (s03["open_questions"], s03["oldest_open_question_h"]) == (1, 39.0)
    assert alpha["totals"]["questions"]["asked"] == 4  # the BETA question is BETA's
    assert [(s["sender"], s["updates"], s["declared_urgent"]) for s in alpha["senders"]] == [("sm-1", 4, 1)]
    esc = alpha["escalations"]
    assert [e["id"] for e in esc["open"]] == ["E-2", "E-3"]
    assert esc["open_by_level"] == {"1": 1, "2": 1}
    assert esc["time_to_ack"] == {"n": 2, "median_h": 3.0, "p90_h": 4.0}
    assert esc["time_to_resolve"] == {"n": 1, "median_h": 10.0, "p90_h": 10.0}
    assert esc["acks_missed"] == 2 and esc["acks_missed_by_site"] == {"S02": 1, "S03": 1}
    beta = data["studies"][1]
    assert beta["totals"]["raw_updates"] == 1 and [e["id"] for e in beta["escalations"]["open"]] == ["E-4"]


def test_each_role_sees_its_scope_only(factory: sessionmaker[Session]) -> None:
    seed(factory)
    assert sites_of(view(factory, "cra-1")) == {"ALPHA": ["S01", "S02"]}
    assert sites_of(view(factory, "cra-2")) == {"ALPHA": ["S03"]}
    assert sites_of(view(factory, "sm-alpha")) == {"ALPHA": ["S01", "S02", "S03"]}
    cra1 = view(factory, "cra-1")["studies"][0]
    assert [e["id"] for e in cra1["escalations"]["open"]] == ["E-2"]
    assert cra1["open_questions"] == [] and cra1["totals"]["questions"]["asked"] == 3
    # the totals are of the sites in scope only (S03's four update-site pairs are not the CRA's)
    assert (cra1["totals"]["raw_updates"], cra1["totals"]["delivered_messages"]) == (8, 6)
    assert cra1["totals"]["interruptions"] == 2 and cra1["totals"]["quiet_hour_interruptions"] == 1
    with transaction(factory) as s, pytest.raises(NotAllowed, match="site staff"):
        Viewer.of(Directory(s).person("crc-s01"))  # type: ignore[arg-type]


def test_site360(factory: sessionmaker[Session]) -> None:
    seed(factory)
    with transaction(factory) as s:
        cra1 = Viewer.of(Directory(s).person("cra-1"))  # type: ignore[arg-type]
        page = site360(s, cra1, "S01", now=END, days=30)
        assert page["site"]["tz"] == "Europe/Paris" and page["studies"] == ["ALPHA"]
        assert {p["person_id"] for p in page["people"]} == {"cra-1", "crc-s01"}
        assert [i["subject"] for i in page["stream"]][-1] == "Recall of lot L4242"
        assert all(i["study"] == "ALPHA" for i in page["stream"])  # never the BETA update
        assert {i["status"] for i in page["stream"]} >= {"queued", "merged"}
        assert set(page["topics"]) == {"Protocol § 6.2 Dosing", "not found in the documents"}
        assert [e["id"] for e in page["escalations"]] == ["E-1"]
        assert [h["kind"] for h in page["escalations"][0]["history"]] == ["raise", "ack", "resolve"]
        assert page["feedback"] == [{"question_id": 1, "at": "2026-03-04T09:00:00Z", "value": "helpful"}]
        with pytest.raises(NotAllowed, match="outside"):
            site360(s, cra1, "S03", now=END, days=30)
        with pytest.raises(LookupError, match="not in the directory"):
            site360(s, cra1, "S99", now=END, days=30)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(i) for i in range(1, 11)], 0.9) == 9.0
    assert percentile([1.0, 2.0, 3.0], 0.5) == 2.0


def test_stats_by_study_in_one_pass_equal_one_study_at_a_time(factory: sessionmaker[Session]) -> None:
    from dataclasses import asdict

    from triage import stats

    seed(factory)
    with transaction(factory) as s:
        together = stats.build_by_study(s, now=END, days=30, classifier=CLASSIFIER, studies=["ALPHA", "BETA"])
        for study in ("ALPHA", "BETA"):
            alone = stats.build(s, now=END, days=30, classifier=CLASSIFIER, studies=[study])
            assert [asdict(x) for x in together[study].sites] == [asdict(x) for x in alone.sites]
            assert [asdict(x) for x in together[study].senders] == [asdict(x) for x in alone.senders]
        everything = stats.build(s, now=END, days=30, classifier=CLASSIFIER)
        assert everything.totals()["raw_updates"] == sum(r.totals()["raw_updates"] for r in together.values())
