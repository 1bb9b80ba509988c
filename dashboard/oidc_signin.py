"""OIDC sign-in to the dashboard: start in one browser, finish once in that same browser, as a directory person.

`begin` stores the hash of a fresh `state` and of a browser secret that goes in a short-lived HttpOnly
cookie; the PKCE verifier and the nonce are derived from that secret and the state, so they need no
storage and only that browser can finish. `take_state` uses the state up (once, before the provider is
called); `person_for_claims` matches the configured claim to a person's email. Every refusal is audited
by the caller through `refuse`, every success by `signed_in`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import audit
from core.domain import Person
from dashboard.models import OidcStateRow
from dashboard.oidc import OidcRefused, Provider
from dashboard.sessions import digest
from dashboard.signin import person_by_email

BROWSER_COOKIE = "siteline_oidc"
STATE_TTL = timedelta(minutes=10)
KEEP_SPENT = timedelta(hours=1)  # states older than this are deleted when a new sign-in begins


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _derive(browser: str, state: str, purpose: str) -> str:
    return _b64(hmac.new(browser.encode(), f"{purpose}|{state}".encode(), hashlib.sha256).digest())


def code_verifier(browser: str, state: str) -> str:
    """43 characters of base64url (RFC 7636 asks 43 to 128)."""
    return _derive(browser, state, "pkce")


def nonce(browser: str, state: str) -> str:
    return _derive(browser, state, "nonce")


@dataclass(frozen=True)
class Begun:
    url: str  # the provider's authorization URL to redirect to
    browser: str  # the secret for the browser cookie


def begin(session: Session, provider: Provider, *, now: datetime) -> Begun:
    """A sign-in under way: where to send the browser, and the secret that binds it to this browser."""
    browser, state = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    challenge = _b64(hashlib.sha256(code_verifier(browser, state).encode()).digest())
    url = provider.authorization_url(state=state, nonce=nonce(browser, state), code_challenge=challenge)
    # Anyone may press the button, so the table is kept to the last hour's sign-ins; a late replay of a
    # deleted state is refused all the same (unknown state).
    session.execute(delete(OidcStateRow).where(OidcStateRow.expires_at < now - KEEP_SPENT))
    session.add(
        OidcStateRow(state_hash=digest(state), browser_hash=digest(browser), created_at=now, expires_at=now + STATE_TTL)
    )
    return Begun(url, browser)


def take_state(session: Session, *, state: str, browser: str | None, now: datetime) -> None:
    """Use the state up; OidcRefused when it is unknown, used, expired or was started in another browser."""
    row = session.execute(
        select(OidcStateRow).where(OidcStateRow.state_hash == digest(state)).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise OidcRefused("this sign-in is not one Siteline started; start again from the sign-in page")
    if row.used_at is not None:
        raise OidcRefused("this sign-in response was already used; start again from the sign-in page")
    row.used_at = now
    if now >= row.expires_at:
        raise OidcRefused("this sign-in took too long (10 minutes); start again from the sign-in page")
    if not browser or not hmac.compare_digest(digest(browser), row.browser_hash):
        raise OidcRefused("this sign-in was started in another browser (or cookies are off); start again here")


def person_for_claims(session: Session, claims: dict[str, Any], *, claim: str) -> Person:
    """The directory person whose email is the claim's value (any case), if they have a dashboard."""
    if claim == "email" and claims.get("email_verified") not in (None, True, "true"):
        raise OidcRefused("your provider says this email address is not verified", status=403)
    value = claims.get(claim)
    if not isinstance(value, str) or not value.strip():
        raise OidcRefused(f"the provider sent no {claim!r} claim; ask your administrator to release it", status=403)
    rows = person_by_email(session, value)
    if not rows:
        raise OidcRefused(f"{value} is not in the Siteline directory; ask your Siteline operator", status=403)
    if len(rows) > 1:
        raise OidcRefused(f"more than one directory person has the email {value}; ask your Siteline operator", 403)
    person = rows[0]
    if person.role == "site_staff":
        raise OidcRefused(
            f"{person.person_id} is site staff: sites use Siteline in chat, not the dashboard",
            status=403,
            person_id=person.person_id,
        )
    return person


def refuse(session: Session, *, now: datetime, reason: str, client: str, who: str = "unknown", **extra: str) -> None:
    audit.record(
        session,
        now=now,
        actor=who,
        action="dashboard.sign_in_refused",
        subject=who,
        detail={"method": "oidc", "reason": reason, "client": client, **extra},
    )


def signed_in(session: Session, *, now: datetime, person_id: str, client: str) -> None:
    audit.record(
        session,
        now=now,
        actor=person_id,
        action="dashboard.sign_in",
        subject=person_id,
        detail={"method": "oidc", "client": client},
    )
