"""`/api/escalations` through the real FastAPI app on SQLite and PostgreSQL: token, 422 naming the
field, nothing half-stored, raise/ack/resolve/list/path/policy with content checks."""

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
from core.models import DeliveryRow
from core.settings import Settings
from escalation.models import EscalationRow, PolicyVersionRow
from siteline.container import Container, build
from siteline.server import create_app
from tests.test_escalation_support import seed

TOKEN = {"Authorization": "Bearer s3cret"}


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
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=db_url,
        SITELINE_API_TOKEN="s3cret",
        SITELINE_RUN_SCHEDULER=False,
    )
    clock = VirtualClock(parse_instant("2026-03-09T09:00:00Z"))
    container = build(settings, clock=clock)
    seed(container.factory)
    with TestClient(create_app(container)) as client:
        yield Api(client, container, clock)
    container.engine.dispose()


BODY = {
    "id": "api-1",
    "site": "S03",
    "study": "ALPHA",
    "raised_by": "staff3",
    "summary": "fridge failed, 18 °C for 30 h",
}


def test_token_is_required(api: Api) -> None:
    assert api.client.post("/api/escalations", json=BODY).status_code == 401
    assert api.client.post("/api/escalations", json=BODY, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert api.client.get("/api/escalations").status_code == 401
    assert api.count(EscalationRow) == 0


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"summary": None}, 422, "summary"),
        ({"category": "fridge"}, 422, "category"),
        ({"severity": "huge"}, 422, "severity"),
        ({"site": "S99"}, 422, "site: unknown site 'S99'"),
        ({"study": "BETA"}, 422, "study: site S03 is not on study 'BETA'"),
        ({"raised_by": "staff1"}, 403, "raised_by: staff1 is not on site S03"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field_and_store_nothing(
    api: Api, change: dict[str, Any], status: int, field: str
) -> None:
    body = {k: v for k, v in {**BODY, **change}.items() if v is not None}
    resp = api.client.post("/api/escalations", json=body, headers=TOKEN)
    assert resp.status_code == status
    assert field in str(resp.json()["detail"])
    assert api.count(EscalationRow) == 0 and api.count(DeliveryRow) == 0


def test_raise_ack_resolve_and_list(api: Api) -> None:
    resp = api.client.post("/api/escalations", json=BODY, headers=TOKEN)
    assert resp.status_code == 201
    esc = resp.json()
    assert (esc["id"], esc["category"], esc["severity"], esc["inferred"]) == ("api-1", "ip_supply", "high", True)
    assert esc["status"] == "notified" and esc["current_roles"] == ["cra"] and esc["source"] == "api"
    assert esc["hands_on_at"] == "2026-03-09T13:00:00Z"  # 4 h from now: the CRA is in working hours in Paris
    assert "fridge" in esc["inference_reason"]
    again = api.client.post("/api/escalations", json=BODY, headers=TOKEN)  # a retry: same content
    assert again.status_code == 200 and again.json()["id"] == "api-1"
    other = api.client.post("/api/escalations", json={**BODY, "summary": "another issue"}, headers=TOKEN)
    assert other.status_code == 409 and "already exists" in other.json()["detail"]

    listed = api.client.get("/api/escalations", params={"site": "S03"}, headers=TOKEN).json()["escalations"]
    assert [e["id"] for e in listed] == ["api-1"]

    refused = api.client.post("/api/escalations/api-1/ack", json={"by": "staff3"}, headers=TOKEN)
    assert refused.status_code == 403
    acked = api.client.post("/api/escalations/api-1/ack", json={"by": "cra1"}, headers=TOKEN).json()
    assert acked["status"] == "acknowledged" and acked["acked_by"] == "cra1" and acked["hands_on_at"] is None
    done = api.client.post("/api/escalations/api-1/resolve", json={"by": "cra1"}, headers=TOKEN).json()
    assert done["status"] == "resolved"
    assert api.client.get("/api/escalations", headers=TOKEN).json()["escalations"] == []
    every = api.client.get("/api/escalations", params={"site": "S03", "status": "all"}, headers=TOKEN).json()
    assert [e["status"] for e in every["escalations"]] == ["resolved"]
    detail = api.client.get("/api/escalations/api-1", headers=TOKEN).json()
    assert [h["kind"] for h in detail["history"]][:2] == ["raise", "notify"] and detail["history"][-1][
        "kind"
    ] == "resolve"
    assert api.client.get("/api/escalations/nope", headers=TOKEN).status_code == 404
    with transaction(api.container.factory) as s:
        site_updates = (
            s.execute(
                select(DeliveryRow.payload).where(
                    DeliveryRow.recipient == "S03", DeliveryRow.kind == "escalation_update"
                )
            )
            .scalars()
            .all()
        )
    assert [p["event"] for p in site_updates] == ["raise", "ack", "resolve"]


def test_generated_id_when_none_is_given(api: Api) -> None:
    body = {k: v for k, v in BODY.items() if k != "id"}
    esc = api.client.post(
        "/api/escalations", json={**body, "category": "ip_supply", "severity": "medium"}, headers=TOKEN
    ).json()
    assert esc["id"].startswith("esc-") and esc["inferred"] is False


def test_path_and_policy(api: Api) -> None:
    path = api.client.get(
        "/api/escalations/path",
        params={"site": "S01", "study": "ALPHA", "category": "safety", "severity": "critical"},
        headers=TOKEN,
    ).json()
    assert [lv["roles"] for lv in path["levels"]] == [["medical_monitor", "srm"], ["study_manager"], ["clinops_head"]]
    assert path["levels"][1]["ack_within"] == "PT1H" and path["levels"][0]["at_once"] is True
    bad = api.client.put("/api/escalations/policy", json={"routing": {"chains": {"safety": []}}}, headers=TOKEN)
    assert bad.status_code == 422 and "default" in str(bad.json()["detail"])
    assert api.count(PolicyVersionRow) == 0
    routing = {"chains": {"default": [{"role": "study_manager", "ack_within": "PT2H"}, {"role": "clinops_head"}]}}
    stored = api.client.put("/api/escalations/policy", json={"routing": routing}, headers=TOKEN).json()
    assert stored["version"] == 1
    current = api.client.get("/api/escalations/policy", headers=TOKEN).json()
    assert current["version"] == 1 and current["routing"]["chains"]["default"][0]["role"] == "study_manager"
    path = api.client.get("/api/escalations/path", params={"site": "S01", "study": "ALPHA"}, headers=TOKEN).json()
    assert path["policy_version"] == 1 and path["levels"][0]["roles"] == ["study_manager"]  # no tier override any more
