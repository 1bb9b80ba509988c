"""`POST /api/updates`, `GET /api/stats` and site preferences through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core.clock import VirtualClock, parse_instant
from core.db import transaction
from core.directory import upsert
from core.domain import Person
from core.models import DeliveryRow
from core.settings import Settings
from siteline.container import Container, build
from siteline.server import create_app
from tests.triage_world import SITES
from triage.models import ItemRow, UpdateRow

TOKEN = {"Authorization": "Bearer s3cret"}
SENDERS = [  # POST /api/updates takes updates only from people in the directory
    Person(person_id="sm-1", role="study_manager", tz="Europe/Zurich", studies=["ALPHA", "BETA"]),
    Person(person_id="cra-1", role="cra_lead", tz="Europe/Paris", studies=["ALPHA", "BETA"]),
]
BODY = {"id": "api-1", "from": "sm-1", "org": "sponsor", "study": "ALPHA", "sites": "all",
        "subject": "Recall of lot L4242", "body": "The manufacturer is recalling lot L4242."}  # fmt: skip


@dataclass
class Api:
    client: TestClient
    container: Container
    clock: VirtualClock

    def count(self, model: Any) -> int:
        with transaction(self.container.factory) as s:
            return int(s.execute(select(func.count()).select_from(model)).scalar() or 0)


@pytest.fixture
def api(tmp_path: Path, db_url: str) -> Iterator[Api]:
    settings = Settings(_env_file=None, SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url,
                        SITELINE_API_TOKEN="s3cret", SITELINE_RUN_SCHEDULER=False)  # fmt: skip
    clock = VirtualClock(parse_instant("2026-03-02T09:00:00Z"))
    container = build(settings, clock=clock)
    with transaction(container.factory) as s:
        upsert(s, SITES, SENDERS)
    with TestClient(create_app(container)) as client:
        yield Api(client, container, clock)
    container.engine.dispose()


def test_the_token_is_required(api: Api) -> None:
    assert api.client.post("/api/updates", json=BODY).status_code == 401
    assert api.client.post("/api/updates", json=BODY, headers={"Authorization": "Bearer no"}).status_code == 401
    assert api.client.get("/api/stats").status_code == 401
    assert api.count(UpdateRow) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"org": "pharma"}, "org"),
        ({"subject": None}, "subject"),
        ({"sites": []}, "sites"),
        ({"due": "soon"}, "due"),
        ({"declared_priority": "asap"}, "declared_priority"),
        ({"sites": ["S01", "S99"]}, "sites"),  # unknown site
        ({"study": "BETA", "sites": ["S02"]}, "sites"),  # S02 is not on BETA
    ],
)
def test_a_malformed_update_is_422_naming_the_field_and_nothing_is_stored(api: Api, change: dict, field: str) -> None:
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    r = api.client.post("/api/updates", json=body, headers=TOKEN)
    assert r.status_code == 422, r.text
    assert field in [e["loc"][-1] for e in r.json()["detail"]]
    assert api.count(UpdateRow) == 0 and api.count(ItemRow) == 0 and api.count(DeliveryRow) == 0


def test_an_update_is_triaged_stored_and_queued(api: Api) -> None:
    r = api.client.post("/api/updates", json=BODY, headers=TOKEN)
    assert r.status_code == 201, r.text
    d = r.json()
    assert (d["id"], d["priority"], d["rule"]) == ("api-1", "urgent", "ip_integrity")
    assert d["counts"] == {"immediate": 3, "digest": 0, "merged": 0, "suppressed": 0}
    assert [s["site"] for s in d["sites"]] == ["S01", "S02", "S03"]
    with transaction(api.container.factory) as s:
        rows = s.execute(select(DeliveryRow).order_by(DeliveryRow.recipient)).scalars().all()
        assert [(x.kind, x.recipient, x.payload["items"][0]["id"]) for x in rows] == [
            ("immediate", "S01", "api-1"), ("immediate", "S02", "api-1"), ("immediate", "S03", "api-1")]  # fmt: skip
        assert rows[0].payload["details"]["api-1"]["subject"] == "Recall of lot L4242"
    # The same id again: 200 with the original decision, nothing new stored.
    again = api.client.post("/api/updates", json=BODY, headers=TOKEN)
    assert again.status_code == 200 and again.json()["already_received"] is True
    assert api.count(DeliveryRow) == 3
    # A forward of it a little later is recorded as suppressed for every site.
    fw = {**BODY, "id": "api-2", "org": "cro", "from": "cra-1", "subject": "FW: Recall of lot L4242"}
    r = api.client.post("/api/updates", json=fw, headers=TOKEN)
    assert r.json()["counts"]["suppressed"] == 3 and {s["carrier"] for s in r.json()["sites"]} == {"api-1"}


def test_a_routine_update_waits_for_the_digest_slot(api: Api) -> None:
    body = {**BODY, "id": "api-3", "subject": "Survey", "body": "Please answer our survey.", "due": "2026-03-20",
            "declared_priority": "urgent", "sites": ["S01"]}  # fmt: skip
    d = api.client.post("/api/updates", json=body, headers=TOKEN).json()
    assert d["priority"] == "action" and "not confirmed" in d["reason"]
    assert d["sites"] == [
        {"site": "S01", "outcome": "digest", "reason": d["reason"], "digest_at": "2026-03-03T07:30:00Z"}
    ]


def test_stats_and_preferences(api: Api) -> None:
    api.client.post("/api/updates", json=BODY, headers=TOKEN)
    stats = api.client.get("/api/stats?days=7", headers=TOKEN).json()
    assert stats["totals"]["raw_updates"] == 3
    assert {s["site_id"] for s in stats["sites"]} == {"S01", "S02", "S03"}
    assert stats["senders"] == [{"sender": "sm-1", "updates": 1, "declared_urgent": 0, "declared_urgent_rate": 0.0,
                                 "judged_urgent": 1, "hint_ignored": False}]  # fmt: skip
    got = api.client.get("/api/sites/S01/preferences", headers=TOKEN).json()
    assert (got["tz"], got["digest_times"], got["quiet_hours"]) == ("Europe/Paris", ["08:30"], ["19:00", "07:00"])
    put = api.client.put("/api/sites/S01/preferences", json={"digest_times": ["09:15", "13:00"],
                         "quiet_hours": ["20:00", "06:00"]}, headers=TOKEN)  # fmt: skip
    assert put.status_code == 200 and put.json()["digest_times"] == ["09:15", "13:00"]
    bad = api.client.put("/api/sites/S01/preferences", json={"digest_times": ["21:00"], "quiet_hours": ["20:00",
                         "06:00"]}, headers=TOKEN)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "digest_times"]
    assert api.client.get("/api/sites/S77/preferences", headers=TOKEN).status_code == 404
