"""Acknowledge links: a random token per e-mailed notice, bound to (escalation, person, level).

Only the token's SHA-256 is stored, so neither a database copy nor a log holds a usable link. A
link expires when the reader's level hands on (the deadline in the e-mail), and at the latest
after `MAX_LIFETIME`; it works once. Issuing one is audited; so is every use (`acknowledge.py`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.email.models import AckLinkRow
from core import audit
from core.clock import iso, parse_instant

MAX_LIFETIME = timedelta(hours=72)
ACK_PATH = "/ack/"
# What `secrets.token_urlsafe(32)` gives (43 characters); anything else is not a link of ours.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def expiry(now: datetime, ack_by: str | None) -> datetime:
    """When the reader's level hands on (if that is still ahead), at the latest `MAX_LIFETIME` from now."""
    latest = now + MAX_LIFETIME
    if ack_by:
        try:
            deadline = parse_instant(ack_by)
        except ValueError:
            return latest
        if now < deadline < latest:
            return deadline
    return latest


def issue(
    session: Session,
    *,
    escalation_id: str,
    person_id: str,
    level: int,
    now: datetime,
    expires_at: datetime,
    delivery_id: int,
) -> str:
    """A new token for this reader's notice (the caller builds the URL; the token is returned only here)."""
    token = secrets.token_urlsafe(32)
    session.add(
        AckLinkRow(
            token_hash=token_hash(token),
            escalation_id=escalation_id,
            person_id=person_id,
            level=level,
            created_at=now,
            expires_at=expires_at,
        )
    )
    audit.record(
        session,
        now=now,
        actor="siteline",
        action="escalation.ack_link_issued",
        subject=escalation_id,
        detail={"person": person_id, "level": level, "expires_at": iso(expires_at), "delivery": delivery_id},
    )
    return token


def url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{ACK_PATH}{token}"


@dataclass(frozen=True)
class Found:
    """What a token stands for: the link, or why it cannot be used (`unknown`, `used`, `expired`)."""

    link: AckLinkRow | None
    problem: str | None = None


def find(session: Session, token: str, *, now: datetime) -> Found:
    """The link a token names, checked (reading only: `spend` is what uses it)."""
    if not TOKEN_SHAPE.match(token):
        return Found(None, "unknown")
    link = session.execute(select(AckLinkRow).where(AckLinkRow.token_hash == token_hash(token))).scalar_one_or_none()
    if link is None:
        return Found(None, "unknown")
    if link.used_at is not None:
        return Found(link, "used")
    if now >= link.expires_at:
        return Found(link, "expired")
    return Found(link)


def spend(session: Session, link_id: int, *, now: datetime) -> bool:
    """Mark the link used unless it already is; True for the one caller that did (commit at once)."""
    result = session.execute(
        update(AckLinkRow)
        .where(AckLinkRow.id == link_id, AckLinkRow.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1
