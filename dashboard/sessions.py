"""Dashboard sessions kept server-side, so one can be ended before it expires.

The cookie carries a random secret; the database keeps only its SHA-256, the person, how they signed
in and the expiry. Sign-out ends the current session; `siteline dashboard revoke` ends every session
of a person at once (for a lost laptop or a person who left) and cancels their unused sign-in links.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from dashboard.models import LoginTokenRow, SessionRow

COOKIE = "siteline_dashboard"
METHODS = ("link", "oidc")


def digest(secret: str) -> str:
    """What is stored of a secret (a link's token, a session's cookie, an OIDC state): its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def start(session: Session, *, person_id: str, method: str, now: datetime, ttl: timedelta) -> str:
    """A new session for a person who has just signed in; returns the secret for the cookie (never stored)."""
    if method not in METHODS:
        raise ValueError(f"unknown sign-in method {method!r}")
    secret = secrets.token_urlsafe(32)
    session.add(
        SessionRow(secret_hash=digest(secret), person_id=person_id, method=method, created_at=now, expires_at=now + ttl)
    )
    return secret


def person_for(session: Session, secret: str | None, *, now: datetime) -> str | None:
    """The person a cookie's secret signs in, or None when unknown, ended or expired."""
    if not secret or len(secret) > 200:
        return None
    row = session.execute(select(SessionRow).where(SessionRow.secret_hash == digest(secret))).scalar_one_or_none()
    if row is None or row.ended_at is not None or now >= row.expires_at:
        return None
    return row.person_id


def end(session: Session, secret: str | None, *, now: datetime, client: str) -> str | None:
    """Sign-out: end the session this secret belongs to (audited); the person it was, or None."""
    if not secret or len(secret) > 200:
        return None
    row = session.execute(
        select(SessionRow).where(SessionRow.secret_hash == digest(secret)).with_for_update()
    ).scalar_one_or_none()
    if row is None or row.ended_at is not None or now >= row.expires_at:
        return None
    row.ended_at, row.ended_by = now, "sign-out"
    audit.record(
        session,
        now=now,
        actor=row.person_id,
        action="dashboard.sign_out",
        subject=row.person_id,
        detail={"session": row.id, "client": client},
    )
    return row.person_id


@dataclass(frozen=True)
class Revoked:
    sessions: int
    links: int


def revoke(session: Session, *, person_id: str, now: datetime, actor: str) -> Revoked:
    """End every live session of a person and cancel their unused links, at once; audited."""
    live = (SessionRow.person_id == person_id) & SessionRow.ended_at.is_(None) & (SessionRow.expires_at > now)
    ended = session.execute(update(SessionRow).where(live).values(ended_at=now, ended_by=f"revoked by {actor}"))
    pending = (
        (LoginTokenRow.person_id == person_id) & LoginTokenRow.used_at.is_(None) & (LoginTokenRow.expires_at > now)
    )
    cancelled = session.execute(update(LoginTokenRow).where(pending).values(expires_at=now))
    done = Revoked(sessions=ended.rowcount or 0, links=cancelled.rowcount or 0)
    audit.record(
        session,
        now=now,
        actor=actor,
        action="dashboard.revoke",
        subject=person_id,
        detail={"sessions": done.sessions, "links": done.links},
    )
    return done


@dataclass(frozen=True)
class SessionInfo:
    """What an operator may see of a session: never its secret nor its hash."""

    id: int
    method: str
    created_at: datetime
    expires_at: datetime
    status: str  # active | expired | ended (sign-out) | ended (revoked by cli)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "method": self.method,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "status": self.status,
        }


def listing(session: Session, *, person_id: str, now: datetime) -> list[SessionInfo]:
    """A person's sessions, newest first."""
    rows = session.execute(
        select(SessionRow).where(SessionRow.person_id == person_id).order_by(SessionRow.id.desc())
    ).scalars()
    out = []
    for row in rows:
        if row.ended_at is not None:
            status = f"ended ({row.ended_by}) at {row.ended_at.isoformat()}"
        elif now >= row.expires_at:
            status = "expired"
        else:
            status = "active"
        out.append(SessionInfo(row.id, row.method, row.created_at, row.expires_at, status))
    return out
