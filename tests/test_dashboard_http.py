"""Dashboard sign-in and scope through the real app: one-time links, sessions, 401/403/redirects."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from core.clock import VirtualClock
from core.db import transaction
from core.models import AuditRow
from core.settings import Settings
from dashboard.models import LoginTokenRow
from dashboard.signin import COOKIE, SignInError, issue
from siteline.cli import app as cli
from siteline.container import Container, build
from siteline.server import create_app
from tests.dashboard_world import END, seed

TOKEN = {"Authorization": "Bearer s3cret"}


@dataclass
class Web:
    client: TestClient
    container: Container
    clock: VirtualClock

    def link(self, person_id: str, ttl: timedelta = timedelta(minutes=15)) -> str:
        with transaction(self.container.factory) as s:
            return issue(s, person_id=person_id, ttl=ttl, now=self.clock.now(), public_url="http://x", actor="test")

    def sign_in(self, person_id: str) -> None:
        path = self.link(person_id).removeprefix("http://x")
        assert self.client.post(path, follow_redirects=False).status_code == 303

    def audit(self, action: str) -> list[AuditRow]:
        with transaction(self.container.factory) as s:
            return list(s.execute(select(AuditRow).where(AuditRow.action == action)).scalars())


@pytest.fixture
def web(tmp_path: Path, db_url: str) -> Iterator[Web]:
    settings = Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=db_url,
        SITELINE_API_TOKEN="s3cret",
        SITELINE_RUN_SCHEDULER=False,
    )
    clock = VirtualClock(END)
    container = build(settings, clock=clock)
    seed(container.factory)
    with TestClient(create_app(container)) as client:
        yield Web(client, container, clock)
    container.engine.dispose()


def test_without_a_session_pages_redirect_and_json_is_401(web: Web) -> None:
    for path in ("/dashboard", "/dashboard/sites/S01", "/dashboard/clusters"):
        r = web.client.get(path, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/dashboard/login")
    assert "siteline dashboard link" in web.client.get("/dashboard/login").text
    for path in ("/api/dashboard/overview", "/api/dashboard/sites/S01", "/api/dashboard/clusters"):
        assert web.client.get(path).status_code == 401
        assert web.client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
    web.client.cookies.set(COOKIE, "eyJwIjoiaGVhZCIsImUiOjk5OTk5OTk5OTl9.forged")
    assert web.client.get("/api/dashboard/overview").status_code == 401


def test_a_link_signs_in_once_and_is_audited(web: Web) -> None:
    url = web.link("cra-1")
    path = url.removeprefix("http://x")
    token = path.rsplit("/", 1)[1]
    with transaction(web.container.factory) as s:
        stored = s.execute(select(LoginTokenRow.token_hash)).scalars().all()
    assert stored and token not in stored  # only its hash is kept
    confirm = web.client.get(path)  # a link preview fetching the URL does not use it up
    assert confirm.status_code == 200 and f'action="{path}"' in confirm.text
    r = web.client.post(path, follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/dashboard")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Max-Age=28800" in cookie and "SameSite=lax" in cookie
    page = web.client.get("/dashboard")
    assert page.status_code == 200 and 'data-k="ALPHA.S01.raw_updates">4<' in page.text
    assert "S03" not in page.text and "BETA" not in page.text
    again = web.client.post(path, follow_redirects=False)
    assert again.status_code == 400 and "already used" in again.text
    assert [a.subject for a in web.audit("dashboard.sign_in")] == ["cra-1"]
    assert [a.detail["reason"] for a in web.audit("dashboard.sign_in_refused")] == [
        "this sign-in link was already used; ask for a new one"
    ]
    assert token not in str([a.detail for a in web.audit("dashboard.link")])


def test_links_and_sessions_expire(web: Web) -> None:
    path = web.link("cra-1", timedelta(minutes=15)).removeprefix("http://x")
    web.clock.advance_to(END + timedelta(minutes=15, seconds=1))
    r = web.client.post(path)
    assert r.status_code == 400 and "expired" in r.text
    assert web.client.post("/dashboard/login/not-a-token").status_code == 400
    web.sign_in("head")
    assert web.client.get("/api/dashboard/overview").status_code == 200
    web.clock.advance_to(END + timedelta(hours=8, minutes=16))
    assert web.client.get("/api/dashboard/overview").status_code == 401
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 303


def test_scope_is_enforced(web: Web) -> None:
    web.sign_in("cra-1")
    data = web.client.get("/api/dashboard/overview").json()
    assert [(s["study"], [r["site_id"] for r in s["sites"]]) for s in data["studies"]] == [("ALPHA", ["S01", "S02"])]
    assert web.client.get("/api/dashboard/sites/S01").json()["studies"] == ["ALPHA"]
    assert web.client.get("/api/dashboard/sites/S03").status_code == 403
    assert web.client.get("/dashboard/sites/S03").status_code == 403
    assert web.client.get("/api/dashboard/sites/S99").status_code == 404
    head = web.client.get("/api/dashboard/overview", headers=TOKEN).json()  # the API token: automation sees all
    assert [s["study"] for s in head["studies"]] == ["ALPHA", "BETA"]


def test_site_staff_get_no_link(web: Web) -> None:
    with pytest.raises(SignInError, match="site staff"):
        web.link("crc-s01")
    with pytest.raises(SignInError, match="not in the directory"):
        web.link("nobody")


def test_cli_prints_a_link(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    s = web.container.settings
    monkeypatch.setenv("SITELINE_HOME", str(s.home))
    monkeypatch.setenv("SITELINE_DATABASE_URL", s.resolved_database_url)
    monkeypatch.setenv("SITELINE_PUBLIC_URL", "https://siteline.example.org/")
    out = CliRunner().invoke(cli, ["dashboard", "link", "sm-alpha", "--ttl", "2h"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("https://siteline.example.org/dashboard/login/")
    bad = CliRunner().invoke(cli, ["dashboard", "link", "sm-alpha", "--ttl", "forever"])
    assert bad.exit_code == 2 and "--ttl 'forever'" in bad.output


def test_the_migration_up_and_down_keeps_rows(db_url: str) -> None:
    from sqlalchemy import inspect, text

    from core.db import make_engine
    from siteline.database import migrate

    engine = make_engine(db_url)
    migrate(engine, "0007d")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sites (site_id, name, tz, tier, studies, digest_times) "
                "VALUES ('S1', 'x', 'UTC', 'standard', '[]', '[]')"
            )
        )
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO dashboard_login_tokens (token_hash, person_id, created_at, expires_at, "
                "created_by) VALUES ('h', 'p', '2026-03-01 00:00:00+00', '2026-03-01 00:15:00+00', 't')"
            )
        )
    from alembic import command

    from siteline.database import alembic_config

    command.downgrade(alembic_config(engine), "0007d")
    assert "dashboard_login_tokens" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM sites")).scalar() == 1
    migrate(engine)
    assert "dashboard_login_tokens" in inspect(engine).get_table_names()
    engine.dispose()


def test_a_bad_clarification_is_refused_naming_the_field_and_nothing_is_sent(web: Web) -> None:
    from sqlalchemy import func

    from triage.models import UpdateRow

    web.sign_in("sm-alpha")
    clusters = web.client.get("/api/dashboard/clusters").json()["clusters"]
    assert [c["sites"] for c in clusters] == [["S01", "S02"]]
    target = f"/api/dashboard/clusters/{clusters[0]['id']}/clarification"
    blank = web.client.post(target, json={"subject": "   ", "body": "Observe for 60 minutes."})
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "subject"]
    missing = web.client.post(target, json={"subject": "Observation"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "body"]
    assert (
        web.client.post(
            "/api/dashboard/clusters/ALPHA-q999/clarification", json={"subject": "a", "body": "b"}
        ).status_code
        == 404
    )
    form = web.client.post(
        f"/dashboard/clusters/{clusters[0]['id']}/clarification",
        content="subject=&body=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 422 and "subject" in form.text
    with transaction(web.container.factory) as s:
        assert s.execute(select(func.count()).select_from(UpdateRow)).scalar() == 5  # the seeded ones only
    api = web.client.post(target, json={"subject": "a", "body": "b"}, headers=TOKEN)
    assert api.status_code == 403


def test_the_access_log_never_keeps_a_sign_in_token() -> None:
    import logging

    from siteline.access_log import HideLinkTokens

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', None, None)
    record.args = ("127.0.0.1:5", "GET", "/dashboard/login/SeCrEtToKeN123?x=1", "1.1", 200)
    assert HideLinkTokens().filter(record)
    assert "SeCrEtToKeN123" not in record.getMessage() and "/dashboard/login/…" in record.getMessage()
    other = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, "%s %s", ("GET", "/dashboard"), None)
    assert HideLinkTokens().filter(other) and other.getMessage() == "GET /dashboard"
