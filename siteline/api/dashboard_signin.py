"""Dashboard sign-in over HTTP: the sign-in page, one-time links, OIDC (when configured) and sign-out.

Both ways in end in the same server-side session (dashboard/sessions.py) behind an HttpOnly cookie.
A refused sign-in answers a page that says why (4xx; 502 when the provider is down), never a traceback,
and is audited.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from core import audit
from core.db import transaction
from core.notify import OutboundMessage
from dashboard import oidc_signin, render, sessions
from dashboard.oidc import OidcRefused, Provider, ProviderUnavailable
from dashboard.signin import LINK_TTL, SignInError, issue, link_text, person_by_email, recently_sent, redeem
from siteline.container import Container

log = logging.getLogger("siteline.dashboard.signin")
router = APIRouter()
OIDC_PATH = "/dashboard/oidc"


def _container(request: Request) -> Container:
    return request.app.state.container


def _provider(request: Request) -> Provider | None:
    return request.app.state.dashboard_oidc


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _secure(c: Container) -> bool:
    return c.settings.public_url.startswith("https://")


def _signed_in(request: Request, secret: str) -> Response:
    """Redirect to the overview with the session cookie (the same for every way of signing in)."""
    c = _container(request)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        secret,
        max_age=int(c.settings.dashboard_session_h * 3600),
        httponly=True,
        samesite="lax",
        secure=_secure(c),
        path="/",
    )
    return response


def _refused_page(request: Request, message: str, status: int) -> HTMLResponse:
    response = HTMLResponse(render.sign_in(message, oidc=_provider(request) is not None), status_code=status)
    response.delete_cookie(oidc_signin.BROWSER_COOKIE, path=OIDC_PATH)
    return response


def _ttl(c: Container) -> timedelta:
    return timedelta(hours=c.settings.dashboard_session_h)


# -- the sign-in page and one-time links ---------------------------------------------------------


def _can_send(c: Container) -> bool:
    return bool(getattr(c.notifier, "senders", None))


@router.get("/dashboard/login", response_class=HTMLResponse)
def page_sign_in(request: Request) -> HTMLResponse:
    c = _container(request)
    return HTMLResponse(render.sign_in(oidc=_provider(request) is not None, send=_can_send(c)))


SENT = (
    "If {email} belongs to someone on a sponsor or CRO team in the Siteline directory, a sign-in link is on "
    "its way to them (by chat, or by e-mail). It works once, for {minutes} minutes."
)


@router.post("/dashboard/login/send", response_class=HTMLResponse)
async def send_link(request: Request) -> HTMLResponse:
    """A one-time link sent where Siteline reaches the person (chat DM, else e-mail). The answer is the same
    whether or not the address is known, so the page cannot be used to find out who is in the directory."""
    c = _container(request)
    form = parse_qs((await request.body())[:4096].decode("utf-8", "replace"))  # urlencoded, as the page posts it
    email = (form.get("email") or [""])[0].strip()[:200]
    if "@" not in email:
        return HTMLResponse(render.sign_in("Give your work e-mail address.", send=_can_send(c)), status_code=422)
    await run_in_threadpool(_send_link, c, email, _client(request))
    minutes = int(LINK_TTL.total_seconds() // 60)
    return HTMLResponse(render.sign_in(SENT.format(email=email, minutes=minutes), send=_can_send(c)))


def _send_link(c: Container, email: str, client: str) -> None:
    now = c.clock.now()
    with transaction(c.factory) as session:
        found = person_by_email(session, email)
        person = found[0] if len(found) == 1 and found[0].role != "site_staff" else None
        audit.record(
            session,
            now=now,
            actor=f"web:{client}",
            action="dashboard.link_requested",
            subject=person.person_id if person else "unknown",
            detail={"matched": person is not None},
        )
        if person is None or recently_sent(session, person.person_id, now):
            return
        try:
            url = issue(
                session, person_id=person.person_id, ttl=LINK_TTL, now=now, public_url=c.settings.public_url,
                actor=f"web:{client}",
            )  # fmt: skip
        except SignInError:
            return
        text = link_text(url)
    result = c.notifier.send(
        OutboundMessage(0, "person", person.person_id, "dashboard_link", {"text": text, "subject": "Sign in"})
    )
    if not result.ok:
        log.warning("dashboard link for %s not sent: %s", person.person_id, result.error)


@router.get("/dashboard/login/{token}", response_class=HTMLResponse)
def page_confirm(token: str) -> HTMLResponse:
    """A confirm button, so a link previewer fetching the URL does not use up the one-time link."""
    return HTMLResponse(render.sign_in(token=token), headers={"Referrer-Policy": "no-referrer"})


@router.post("/dashboard/login/{token}")
def sign_in(request: Request, token: str) -> Response:
    c = _container(request)
    now = c.clock.now()
    with transaction(c.factory) as session:
        outcome = redeem(session, token=token, now=now, client=_client(request))
        if outcome.person_id is not None:
            secret = sessions.start(session, person_id=outcome.person_id, method="link", now=now, ttl=_ttl(c))
    if outcome.person_id is None:
        return _refused_page(request, outcome.refusal or "sign-in refused", 400)
    return _signed_in(request, secret)


@router.post("/dashboard/logout")
def sign_out(request: Request) -> Response:
    """Ends the session on the server, so the cookie stops working even if a copy of it is kept."""
    c = _container(request)
    with transaction(c.factory) as session:
        sessions.end(session, request.cookies.get(sessions.COOKIE), now=c.clock.now(), client=_client(request))
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


# -- OIDC ----------------------------------------------------------------------------------------


def _unavailable(request: Request, exc: ProviderUnavailable, *, now: datetime) -> HTMLResponse:
    log.warning("dashboard OIDC sign-in: %s", exc)
    c = _container(request)
    with transaction(c.factory) as session:
        oidc_signin.refuse(session, now=now, reason=str(exc), client=_client(request))
    return _refused_page(request, f"Signing in with your organisation is not possible right now: {exc}.", 502)


@router.get(f"{OIDC_PATH}/login")
def oidc_login(request: Request) -> Response:
    provider = _provider(request)
    if provider is None:
        return HTMLResponse(render.refused(404, "OIDC sign-in is not configured here"), status_code=404)
    c = _container(request)
    now = c.clock.now()
    try:
        with transaction(c.factory) as session:
            begun = oidc_signin.begin(session, provider, now=now)
    except ProviderUnavailable as exc:
        return _unavailable(request, exc, now=now)
    response = RedirectResponse(begun.url, status_code=303)
    response.set_cookie(
        oidc_signin.BROWSER_COOKIE,
        begun.browser,
        max_age=int(oidc_signin.STATE_TTL.total_seconds()),
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back, not on cross-site posts
        secure=_secure(c),
        path=OIDC_PATH,
    )
    return response


@router.get(f"{OIDC_PATH}/callback")
def oidc_callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    provider = _provider(request)
    if provider is None:
        return HTMLResponse(render.refused(404, "OIDC sign-in is not configured here"), status_code=404)
    c = _container(request)
    now, client = c.clock.now(), _client(request)
    browser = request.cookies.get(oidc_signin.BROWSER_COOKIE)
    with transaction(c.factory) as session:  # the state is used up whatever happens next
        try:
            if not state or len(state) > 200:
                raise OidcRefused("the provider's answer carries no valid state; start again from the sign-in page")
            oidc_signin.take_state(session, state=state, browser=browser, now=now)
            if error:
                raise OidcRefused(f"your organisation's sign-in did not sign you in ({error[:60]})")
            if not code or len(code) > 4096:
                raise OidcRefused("the provider's answer carries no code; start again from the sign-in page")
        except OidcRefused as exc:
            oidc_signin.refuse(session, now=now, reason=str(exc), client=client)
            return _refused_page(request, str(exc), exc.status)
    assert browser is not None  # take_state refused otherwise
    try:
        token = provider.exchange(code=code, code_verifier=oidc_signin.code_verifier(browser, state))
        claims = provider.verify(token, nonce=oidc_signin.nonce(browser, state), now=now)
    except ProviderUnavailable as exc:
        return _unavailable(request, exc, now=now)
    except OidcRefused as exc:
        with transaction(c.factory) as session:
            oidc_signin.refuse(session, now=now, reason=str(exc), client=client)
        return _refused_page(request, str(exc), exc.status)
    with transaction(c.factory) as session:
        try:
            person = oidc_signin.person_for_claims(session, claims, claim=provider.config.claim)
        except OidcRefused as exc:
            value = claims.get(provider.config.claim)
            who = str(value)[:200] if isinstance(value, str) else "unknown"
            oidc_signin.refuse(
                session, now=now, reason=str(exc), client=client, who=exc.person_id or "unknown", claim=who
            )
            return _refused_page(request, str(exc), exc.status)
        secret = sessions.start(session, person_id=person.person_id, method="oidc", now=now, ttl=_ttl(c))
        oidc_signin.signed_in(session, now=now, person_id=person.person_id, client=client)
    response = _signed_in(request, secret)
    response.delete_cookie(oidc_signin.BROWSER_COOKIE, path=OIDC_PATH)
    return response
