"""Acknowledge links sent by e-mail, stored only as a hash of the token they carry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models import BigId


class AckLinkRow(Base):
    """One acknowledge link: for one person at one level of one escalation, good once (`used_at`)
    until `expires_at`; the token itself is never stored, so a copy of the database cannot use it."""

    __tablename__ = "email_ack_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    escalation_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
