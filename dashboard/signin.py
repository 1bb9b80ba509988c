"""Sign-in without passwords: a one-time link (as the bot would DM it), then a session (dashboard/sessions.py).

The link's token is random, stored only as its SHA-256, good once and until it expires; every
sign-in, and every refused one, is written to the audit trail.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.directory import Directory
from core.domain import Person
from core.models import PersonRow
from dashboard.models import LoginTokenRow
from dashboard.scope import Viewer
from dashboard.sessions import COOKIE, digest

__all__ = ["COOKIE", "Redeemed", "SignInError", "issue", "parse_ttl", "redeem"]
_TTL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_TTL = timedelta(days=7)


class SignInError(ValueError):
    """A link that cannot be issued or used; the message says why (and never contains the token)."""


def parse_ttl(text: str) -> timedelta:
    """'15m', '2h', '1d', '90s' -> a duration (at most a week)."""
    m = _TTL.match(text)
    if not m:
        raise SignInError(f"--ttl {text!r}: give a number and a unit s, m, h or d, e.g. 15m")
    ttl = timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])
    if ttl <= timedelta(0) or ttl > MAX_TTL:
        raise SignInError(f"--ttl {text!r}: must be more than 0 and at most 7d")
    return ttl


def issue(session: Session, *, person_id: str, ttl: timedelta, now: datetime, public_url: str, actor: str) -> str:
    """A one-time sign-in URL for a person who has a dashboard (not site staff)."""
    person = Directory(session).person(person_id)
    if person is None:
        raise SignInError(f"person {person_id!r} is not in the directory")
    try:
        Viewer.of(person)
    except PermissionError as exc:
        raise SignInError(str(exc)) from None
    token = secrets.token_urlsafe(32)
    session.add(
        LoginTokenRow(
            token_hash=digest(token), person_id=person_id, created_at=now, expires_at=now + ttl, created_by=actor
        )
    )
    audit.record(
        session,
        now=now,
        actor=actor,
        action="dashboard.link",
        subject=person_id,
        detail={"expires_in_s": int(ttl.total_seconds())},
    )
    return f"{public_url.rstrip('/')}/dashboard/login/{token}"


LINK_TTL = timedelta(minutes=15)  # a sign-in link sent to someone (chat DM or e-mail)
SEND_GAP = timedelta(minutes=2)  # at most one link sent on request per person in this time


def link_text(url: str) -> str:
    """How a sign-in link is handed to its person, by chat or e-mail."""
    minutes = int(LINK_TTL.total_seconds() // 60)
    return f"Your Siteline dashboard sign-in link (works once, for {minutes} minutes; don't share it): {url}"


def recently_sent(session: Session, person_id: str, now: datetime) -> bool:
    """Whether a link was sent to this person on request within SEND_GAP: the sign-in page is public,
    so without this anyone could have Siteline message a sponsor's staff over and over."""
    since = now - SEND_GAP
    query = select(LoginTokenRow.id).where(
        LoginTokenRow.person_id == person_id,
        LoginTokenRow.created_at > since,
        LoginTokenRow.created_by.startswith("web:"),
    )
    return session.execute(query.limit(1)).first() is not None


def person_by_email(session: Session, email: str) -> list[Person]:
    """Directory people with this e-mail address (any case, surrounding spaces ignored)."""
    wanted = email.strip().lower()
    if not wanted:
        return []
    rows = session.execute(select(PersonRow).where(func.lower(func.trim(PersonRow.email)) == wanted).limit(2))
    return [Person.model_validate(r, from_attributes=True) for r in rows.scalars()]


@dataclass(frozen=True)
class Redeemed:
    person_id: str | None
    refusal: str | None = None


def redeem(session: Session, *, token: str, now: datetime, client: str) -> Redeemed:
    """Use a link once: the person it signs in, or why not (unknown, used, expired). Audited either way."""
    row = session.execute(
        select(LoginTokenRow).where(LoginTokenRow.token_hash == digest(token)).with_for_update()
    ).scalar_one_or_none()
    refusal = None
    if row is None:
        refusal = "this sign-in link is not valid"
    elif row.used_at is not None:
        refusal = "this sign-in link was already used; ask for a new one"
    elif now >= row.expires_at:
        refusal = "this sign-in link has expired; ask for a new one"
    else:
        person = Directory(session).person(row.person_id)
        if person is None or person.role == "site_staff":
            refusal = "this person no longer has a dashboard"
    subject = row.person_id if row is not None else "unknown"
    if refusal is not None:
        audit.record(
            session,
            now=now,
            actor=subject,
            action="dashboard.sign_in_refused",
            subject=subject,
            detail={"method": "link", "reason": refusal, "client": client},
        )
        return Redeemed(None, refusal)
    assert row is not None
    row.used_at = now
    audit.record(
        session,
        now=now,
        actor=row.person_id,
        action="dashboard.sign_in",
        subject=row.person_id,
        detail={"method": "link", "client": client},
    )
    return Redeemed(row.person_id)
