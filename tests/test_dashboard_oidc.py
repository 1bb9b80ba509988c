"""OIDC sign-in end to end: the real app (TestClient) and a fake provider serving real HTTP in a thread.

The browser's part is played by hand: the app's redirect is followed to the provider with httpx, and the
provider's redirect back is followed into the app, carrying the app's cookies as a browser would.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from core.clock import VirtualClock
from core.db import transaction
from core.directory import upsert
from core.models import AuditRow
from core.settings import Settings
from dashboard.models import OidcStateRow, SessionRow
from dashboard.oidc_signin import BROWSER_COOKIE
from dashboard.sessions import COOKIE
from siteline.container import Container, build
from siteline.server import create_app
from tests.dashboard_world import END, PEOPLE, seed
from tests.fake_oidc import FakeOidc

PUBLIC = "http://testserver"
CALLBACK = f"{PUBLIC}/dashboard/oidc/callback"
ANA = {"sub": "u-ana", "email": "Ana.Cra@Sponsor.example", "email_verified": True}


def said(response: httpx.Response) -> str:
    """A page's text as a person reads it (HTML entities decoded)."""
    return html.unescape(response.text)


@dataclass
class World:
    client: TestClient
    container: Container
    clock: VirtualClock
    idp: FakeOidc

    def start(self, client: TestClient | None = None) -> str:
        """Press "Sign in with your organisation": the provider URL the app redirects to."""
        r = (client or self.client).get("/dashboard/oidc/login", follow_redirects=False)
        assert r.status_code == 303, r.text
        return r.headers["location"]

    def at_provider(self, url: str) -> str:
        """The browser at the provider, which signs the person in and redirects back: the callback URL."""
        r = httpx.get(url, follow_redirects=False)
        assert r.status_code == 302, r.text
        return r.headers["location"]

    def sign_in(self, client: TestClient | None = None) -> httpx.Response:
        back = self.at_provider(self.start(client))
        assert back.startswith(CALLBACK)
        return (client or self.client).get(back, follow_redirects=False)

    def audit(self, action: str) -> list[AuditRow]:
        with transaction(self.container.factory) as s:
            return list(s.execute(select(AuditRow).where(AuditRow.action == action)).scalars())

    def sessions(self) -> int:
        with transaction(self.container.factory) as s:
            return s.execute(select(func.count()).select_from(SessionRow)).scalar_one()


def _settings(tmp_path: Path, db_url: str, **extra: Any) -> Settings:
    return Settings(
        _env_file=None,
        SITELINE_HOME=tmp_path / "home",
        SITELINE_DATABASE_URL=db_url,
        SITELINE_RUN_SCHEDULER=False,
        SITELINE_PUBLIC_URL=PUBLIC,
        **extra,
    )


def _with_emails(container: Container) -> None:
    emails = {"cra-1": "ana.cra@sponsor.example", "crc-s01": "carla@site01.example"}
    with transaction(container.factory) as s:
        upsert(s, [], [p.model_copy(update={"email": emails[p.person_id]}) for p in PEOPLE if p.person_id in emails])


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    clock = VirtualClock(END)
    idp = FakeOidc(client_id="siteline-dash", client_secret="s3cr&t:x", redirect_uri=CALLBACK, now=clock.now)
    idp.user = dict(ANA)
    settings = _settings(
        tmp_path,
        db_url,
        SITELINE_OIDC_ISSUER=idp.issuer,
        SITELINE_OIDC_CLIENT_ID="siteline-dash",
        SITELINE_OIDC_CLIENT_SECRET="s3cr&t:x",
    )
    container = build(settings, clock=clock)
    seed(container.factory)
    _with_emails(container)
    with TestClient(create_app(container)) as client:
        yield World(client, container, clock, idp)
    container.engine.dispose()
    idp.close()


def test_signing_in_with_the_provider_starts_a_session_scoped_to_that_person(world: World) -> None:
    page = world.client.get("/dashboard/login")
    assert 'action="/dashboard/oidc/login"' in page.text and "Sign in with your organisation" in page.text
    started = world.client.get("/dashboard/oidc/login", follow_redirects=False)
    assert started.status_code == 303
    binding = started.headers["set-cookie"]
    assert binding.startswith(f"{BROWSER_COOKIE}=") and "HttpOnly" in binding and "Path=/dashboard/oidc" in binding
    provider_url = started.headers["location"]
    asked = parse_qs(urlsplit(provider_url).query)
    assert provider_url.startswith(f"{world.idp.issuer}/authorize?")
    assert asked["redirect_uri"] == [CALLBACK] and asked["code_challenge_method"] == ["S256"]
    assert asked["scope"] == ["openid email profile"] and asked["client_id"] == ["siteline-dash"]
    assert len(asked["state"][0]) >= 40 and len(asked["nonce"][0]) >= 40

    done = world.client.get(world.at_provider(provider_url), follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/dashboard"), said(done)
    assert world.idp.token_errors == []  # client secret, PKCE verifier, redirect URI and code all accepted
    cookies = done.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(f"{COOKIE}="))
    assert "HttpOnly" in session_cookie and "Max-Age=28800" in session_cookie and "SameSite=lax" in session_cookie
    assert any(c.startswith(f'{BROWSER_COOKIE}=""') for c in cookies)  # the binding cookie is spent

    overview = world.client.get("/api/dashboard/overview")
    assert overview.status_code == 200
    data = overview.json()
    assert data["viewer"]["person"] == "cra-1"
    assert [(s["study"], [r["site_id"] for r in s["sites"]]) for s in data["studies"]] == [("ALPHA", ["S01", "S02"])]
    assert world.client.get("/api/dashboard/sites/S03").status_code == 403
    [signed] = world.audit("dashboard.sign_in")
    assert (signed.subject, signed.detail["method"]) == ("cra-1", "oidc")
    with transaction(world.container.factory) as s:
        row = s.execute(select(SessionRow)).scalar_one()
    assert (row.person_id, row.method, row.expires_at) == ("cra-1", "oidc", END + timedelta(hours=8))
    assert session_cookie.split(";")[0].split("=", 1)[1] not in row.secret_hash


def test_a_callback_is_good_once_and_only_in_the_browser_that_started_it(world: World) -> None:
    back = world.at_provider(world.start())
    assert world.client.get(back, follow_redirects=False).status_code == 303
    replay = world.client.get(back, follow_redirects=False)
    assert replay.status_code == 400 and "already used" in said(replay)
    assert world.sessions() == 1

    elsewhere = world.at_provider(world.start())  # started here, finished in another browser (an attacker's)
    with TestClient(world.client.app) as other:
        stolen = other.get(elsewhere, follow_redirects=False)
        assert stolen.status_code == 400 and "another browser" in said(stolen)
        assert COOKIE not in stolen.cookies
        forged = other.get("/dashboard/oidc/callback?code=abc&state=made-up", follow_redirects=False)
        assert forged.status_code == 400 and "not one Siteline started" in said(forged)
    assert world.client.get(elsewhere, follow_redirects=False).status_code == 400  # used up by the attempt
    assert world.sessions() == 1
    reasons = [a.detail["reason"] for a in world.audit("dashboard.sign_in_refused")]
    assert len(reasons) == 4 and all("start again" in r for r in reasons)


def test_a_state_older_than_ten_minutes_is_refused(world: World) -> None:
    provider_url = world.start()
    world.clock.advance_to(END + timedelta(minutes=10, seconds=1))
    late = world.client.get(world.at_provider(provider_url), follow_redirects=False)
    assert late.status_code == 400 and "took too long" in said(late)
    assert world.sessions() == 0
    world.clock.advance_to(END + timedelta(hours=2))
    assert world.sign_in().status_code == 303  # and the old, spent state is cleared away
    with transaction(world.container.factory) as s:
        assert s.execute(select(func.count()).select_from(OidcStateRow)).scalar_one() == 1


_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        ({"claims": {"aud": "someone-else"}}, "issued for another application (audience)"),
        ({"claims": {"aud": ["siteline-dash", "other-app"]}}, "several audiences"),
        ({"claims": {"iss": "https://evil.example"}}, "issued by another provider (issuer)"),
        ({"sign_with": _OTHER_KEY}, "signature does not verify"),
        ({"claims": {"exp": int((END - timedelta(minutes=2)).timestamp())}}, "has expired"),
        ({"claims": {"iat": int((END + timedelta(minutes=5)).timestamp())}}, "not valid yet"),
        ({"claims": {"nonce": "not-the-one-we-sent"}}, "nonce does not match"),
        ({"claims": {"nonce": None}}, "nonce does not match"),
        ({"claims": {"sub": None}}, "lacks the 'sub' claim"),
    ],
    ids=["audience", "azp", "issuer", "signature", "expired", "future", "nonce", "no-nonce", "no-sub"],
)
def test_an_id_token_failing_a_check_is_refused_with_a_clear_page(
    world: World, tamper: dict[str, Any], says: str
) -> None:
    world.idp.claims = tamper.get("claims", {})
    world.idp.sign_with = tamper.get("sign_with")
    r = world.sign_in()
    assert r.status_code == 400 and says in said(r), said(r)
    assert "Traceback" not in said(r) and COOKIE not in r.cookies
    assert world.sessions() == 0
    assert world.client.get("/api/dashboard/overview").status_code == 401
    [refused] = world.audit("dashboard.sign_in_refused")
    assert refused.detail["method"] == "oidc" and says in refused.detail["reason"]


def test_a_token_signed_with_a_symmetric_algorithm_is_refused(world: World) -> None:
    original = world.idp.id_token

    def hs256(grant: Any) -> str:  # the client secret as an HMAC key: never accepted
        claims = jwt.decode(original(grant), options={"verify_signature": False})
        return jwt.encode(claims, "s3cr&t:x" * 4, algorithm="HS256", headers={"kid": "k1"})

    world.idp.id_token = hs256  # type: ignore[method-assign]
    r = world.sign_in()
    assert r.status_code == 400 and "signed with 'HS256'" in said(r)
    assert world.sessions() == 0


@pytest.mark.parametrize(
    ("user", "says", "subject"),
    [
        ({"sub": "u-x", "email": "stranger@elsewhere.example"}, "not in the Siteline directory", "unknown"),
        ({"sub": "u-c", "email": "CARLA@site01.example", "email_verified": True}, "site staff", "crc-s01"),
        ({**ANA, "email_verified": False}, "not verified", "unknown"),
        ({"sub": "u-y"}, "no 'email' claim", "unknown"),
    ],
    ids=["stranger", "site-staff", "unverified", "no-email"],
)
def test_a_person_without_a_dashboard_is_refused_and_audited(
    world: World, user: dict[str, Any], says: str, subject: str
) -> None:
    world.idp.user = user
    r = world.sign_in()
    assert r.status_code == 403 and says in said(r), said(r)
    assert world.sessions() == 0 and world.audit("dashboard.sign_in") == []
    [refused] = world.audit("dashboard.sign_in_refused")
    assert refused.subject == subject and says in refused.detail["reason"]


def test_a_rolled_key_is_fetched_once_more(world: World) -> None:
    assert world.sign_in().status_code == 303
    assert world.idp.jwks_fetches == 1
    world.idp.rotate()
    with TestClient(world.client.app) as other:
        assert world.sign_in(other).status_code == 303
    assert world.idp.jwks_fetches == 2 and world.sessions() == 2


def test_the_provider_refusing_the_code_is_a_clear_page(world: World) -> None:
    world.idp.client_secret = "rotated-at-the-provider"
    r = world.sign_in()
    assert r.status_code == 400 and "refused the sign-in code (invalid_client)" in said(r)
    assert world.idp.token_errors == ["invalid_client"] and world.sessions() == 0


def test_the_user_cancelling_at_the_provider_is_a_clear_page(world: World) -> None:
    provider_url = world.start()
    state = parse_qs(urlsplit(provider_url).query)["state"][0]
    r = world.client.get(f"/dashboard/oidc/callback?error=access_denied&state={state}", follow_redirects=False)
    assert r.status_code == 400 and "did not sign you in (access_denied)" in said(r)
    assert world.sessions() == 0


def test_the_fake_provider_checks_pkce_and_single_use_codes_like_a_real_one(world: World) -> None:
    back = world.at_provider(world.start())
    code = parse_qs(urlsplit(back).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "code_verifier": "x" * 43}
    r = httpx.post(f"{world.idp.issuer}/token", data=form, auth=("siteline-dash", "s3cr%26t%3Ax"))
    assert (r.status_code, r.json()) == (400, {"error": "invalid_grant"})
    again = world.client.get(back, follow_redirects=False)  # the code was spent by the bad attempt
    assert again.status_code == 400 and "invalid_grant" in said(again)
    wrong = httpx.post(f"{world.idp.issuer}/token", data=form, auth=("siteline-dash", "nope"))
    assert wrong.status_code == 401


def test_a_provider_that_is_down_is_a_clear_502(tmp_path: Path, db_url: str) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = _settings(
        tmp_path,
        db_url,
        SITELINE_OIDC_ISSUER=f"http://127.0.0.1:{port}",
        SITELINE_OIDC_CLIENT_ID="c",
        SITELINE_OIDC_CLIENT_SECRET="s",
    )
    container = build(settings, clock=VirtualClock(END))
    with TestClient(create_app(container)) as client:
        r = client.get("/dashboard/oidc/login", follow_redirects=False)
        assert r.status_code == 502 and "did not answer (discovery document: ConnectError)" in said(r)
        assert "Traceback" not in said(r)
    with transaction(container.factory) as s:
        [refused] = s.execute(select(AuditRow).where(AuditRow.action == "dashboard.sign_in_refused")).scalars()
    assert refused.detail["method"] == "oidc" and "did not answer" in refused.detail["reason"]
    container.engine.dispose()


def test_without_oidc_settings_there_is_no_button_and_no_route(tmp_path: Path, db_url: str) -> None:
    container = build(_settings(tmp_path, db_url), clock=VirtualClock(END))
    with TestClient(create_app(container)) as client:
        page = client.get("/dashboard/login")
        assert page.status_code == 200 and "oidc" not in page.text and "Sign in with your organisation" not in page.text
        assert client.get("/dashboard/oidc/login", follow_redirects=False).status_code == 404
        assert client.get("/dashboard/oidc/callback?code=a&state=b", follow_redirects=False).status_code == 404
    container.engine.dispose()


def test_half_an_oidc_configuration_is_refused_naming_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="missing SITELINE_OIDC_CLIENT_SECRET"):
        Settings(_env_file=None, SITELINE_OIDC_ISSUER="https://idp.example", SITELINE_OIDC_CLIENT_ID="c")
    with pytest.raises(ValidationError, match="must include the scope 'openid'"):
        Settings(_env_file=None, SITELINE_OIDC_SCOPES="email profile")
    with pytest.raises(ValidationError, match="must start with https://"):
        Settings(
            _env_file=None,
            SITELINE_OIDC_ISSUER="idp.example",
            SITELINE_OIDC_CLIENT_ID="c",
            SITELINE_OIDC_CLIENT_SECRET="s",
        )
