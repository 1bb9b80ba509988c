"""Dashboard sessions live on the server: sign-out and `siteline dashboard revoke` end them for real.

The CLI reads the system clock, so these tests run the app's virtual clock from the real time: a
session the app starts is then live for the CLI too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from core.clock import VirtualClock
from core.db import transaction
from core.models import AuditRow
from core.settings import Settings
from dashboard.models import SessionRow
from dashboard.sessions import COOKIE
from dashboard.signin import issue
from siteline.cli import app as cli
from siteline.container import Container, build
from siteline.server import create_app
from tests.dashboard_world import seed


@dataclass
class Web:
    client: TestClient
    container: Container
    clock: VirtualClock

    def link(self, person_id: str) -> str:
        with transaction(self.container.factory) as s:
            return issue(
                s, person_id=person_id, ttl=timedelta(minutes=15), now=self.clock.now(), public_url="", actor=""
            )

    def sign_in(self, person_id: str, client: TestClient | None = None) -> str:
        """Follow a fresh one-time link; the session cookie's value."""
        r = (client or self.client).post(self.link(person_id), follow_redirects=False)
        assert r.status_code == 303, r.text
        return r.cookies[COOKIE]

    def audit(self, action: str) -> list[AuditRow]:
        with transaction(self.container.factory) as s:
            return list(s.execute(select(AuditRow).where(AuditRow.action == action)).scalars())

    def cli(self, *args: str) -> tuple[int, str]:
        out = CliRunner().invoke(cli, ["dashboard", *args])
        return out.exit_code, out.output


@pytest.fixture
def web(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Web]:
    settings = Settings(
        _env_file=None, SITELINE_HOME=tmp_path / "home", SITELINE_DATABASE_URL=db_url, SITELINE_RUN_SCHEDULER=False
    )
    clock = VirtualClock(datetime.now(UTC).replace(microsecond=0))
    container = build(settings, clock=clock)
    seed(container.factory)
    monkeypatch.setenv("SITELINE_HOME", str(settings.home))
    monkeypatch.setenv("SITELINE_DATABASE_URL", settings.resolved_database_url)
    with TestClient(create_app(container)) as client:
        yield Web(client, container, clock)
    container.engine.dispose()


def test_revoking_a_person_ends_every_session_of_theirs_at_once(web: Web) -> None:
    web.sign_in("cra-1")
    with TestClient(web.client.app) as laptop, TestClient(web.client.app) as other_person:
        web.sign_in("cra-1", laptop)
        web.sign_in("sm-alpha", other_person)
        with transaction(web.container.factory) as s:
            unused = issue(
                s, person_id="cra-1", ttl=timedelta(minutes=15), now=web.clock.now(), public_url="", actor=""
            )
        assert web.client.get("/api/dashboard/overview").status_code == 200

        code, listed = web.cli("sessions", "cra-1")
        assert code == 0 and listed.count("active") == 2 and listed.count(" link ") == 2, listed
        with transaction(web.container.factory) as s:
            hashes = s.execute(select(SessionRow.secret_hash)).scalars().all()
        assert not any(h in listed for h in hashes)
        assert web.client.cookies[COOKIE] not in listed and laptop.cookies[COOKIE] not in listed

        code, said = web.cli("revoke", "cra-1")
        assert code == 0 and said.strip() == "ended 2 session(s) of cra-1; cancelled 1 unused sign-in link(s)"
        r = web.client.get("/api/dashboard/overview")
        assert r.status_code == 401 and "sign in first" in r.json()["detail"]
        page = laptop.get("/dashboard", follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (303, "/dashboard/login")
        assert other_person.get("/api/dashboard/overview").status_code == 200  # only that person's sessions

    code, listed = web.cli("sessions", "cra-1")
    assert listed.count("ended (revoked by cli)") == 2 and "active" not in listed
    [revoked] = web.audit("dashboard.revoke")
    assert (revoked.actor, revoked.subject, revoked.detail) == ("cli", "cra-1", {"sessions": 2, "links": 1})
    web.clock.advance_to(web.clock.now() + timedelta(minutes=1))  # past the CLI's own (system) clock
    late = web.client.post(unused, follow_redirects=False)
    assert late.status_code == 400 and "expired" in late.text  # the unused link was cancelled
    assert web.sign_in("cra-1")  # a new sign-in works again


def test_sessions_as_json_and_unknown_people(web: Web) -> None:
    import json

    web.sign_in("head")
    code, out = web.cli("sessions", "head", "--json")
    data = json.loads(out)
    assert code == 0 and data["person"] == "head"
    assert [(s["method"], s["status"]) for s in data["sessions"]] == [("link", "active")]
    assert set(data["sessions"][0]) == {"id", "method", "created_at", "expires_at", "status"}
    assert web.cli("sessions", "nobody") == (0, "nobody has no dashboard sessions\n")
    code, out = web.cli("revoke", "nobody")
    assert code == 2 and "'nobody' is not in the directory and has no dashboard sessions" in out
    assert web.audit("dashboard.revoke") == []


def test_signing_out_ends_the_session_on_the_server(web: Web) -> None:
    cookie = web.sign_in("sm-alpha")
    assert web.client.get("/api/dashboard/overview").status_code == 200
    out = web.client.post("/dashboard/logout", follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/dashboard/login")
    web.client.cookies.set(COOKIE, cookie)  # a copy of the old cookie, kept by someone
    assert web.client.get("/api/dashboard/overview").status_code == 401
    assert web.client.get("/dashboard", follow_redirects=False).status_code == 303
    [signed_out] = web.audit("dashboard.sign_out")
    assert signed_out.subject == "sm-alpha"
    with transaction(web.container.factory) as s:
        row = s.execute(select(SessionRow)).scalar_one()
    assert (row.ended_by, row.method) == ("sign-out", "link") and cookie not in row.secret_hash
    again = web.client.post("/dashboard/logout", follow_redirects=False)  # nothing left to end: still fine
    assert again.status_code == 303 and len(web.audit("dashboard.sign_out")) == 1


def test_the_migration_up_and_down(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect, text

    from core.db import make_engine
    from siteline.database import alembic_config, migrate

    engine = make_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO dashboard_sessions (secret_hash, person_id, method, created_at, expires_at) "
                "VALUES ('h', 'p', 'link', '2026-03-01 00:00:00+00', '2026-03-01 08:00:00+00')"
            )
        )
    command.downgrade(alembic_config(engine), "0008dash")
    tables = inspect(engine).get_table_names()
    assert "dashboard_sessions" not in tables and "dashboard_oidc_states" not in tables
    assert "dashboard_login_tokens" in tables
    migrate(engine)
    assert {"dashboard_sessions", "dashboard_oidc_states"} <= set(inspect(engine).get_table_names())
    engine.dispose()


# -- found by a probe (session 19) ------------------------------------------------------------------------------


def test_a_state_change_sent_from_another_site_is_refused(web: Web) -> None:
    """A page elsewhere could sign a coordinator out (or post a clarification) with their cookie: a form posted
    from another origin carries that origin, and is refused before anything changes."""
    web.sign_in("sm-alpha")
    foreign = web.client.post("/dashboard/logout", headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert foreign.status_code == 403 and "another site" in foreign.text
    by_referer = web.client.post(
        "/dashboard/logout", headers={"Referer": "http://evil.example/page"}, follow_redirects=False
    )
    assert by_referer.status_code == 403
    assert web.client.get("/api/dashboard/overview").status_code == 200  # still signed in
    clarify = web.client.post(
        "/api/dashboard/clusters/any/clarification",
        json={"subject": "x", "body": "y"},
        headers={"Origin": "http://evil.example"},
    )
    assert clarify.status_code == 403
    own = web.client.post("/dashboard/logout", headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert own.status_code == 303


def test_dashboard_pages_forbid_framing_and_caching(web: Web) -> None:
    web.sign_in("sm-alpha")
    for path in ("/dashboard", "/dashboard/login", "/api/dashboard/overview"):
        headers = web.client.get(path, follow_redirects=False).headers
        assert headers["x-content-type-options"] == "nosniff" and headers["cache-control"] == "no-store", path
        if headers["content-type"].startswith("text/html"):
            assert headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert "script-src" not in headers["content-security-policy"]  # default-src 'none' covers scripts
