"""Triage tables: every update received, every per-site decision, and each site's next digest slot.

The decision rows are the audit trail of triage (why an item went out at once, waited for a
digest, was merged into another or suppressed) and they are written in the same transaction as
the outbox rows they cause, so a crash never leaves a decision without its delivery or the reverse.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models import BigId


class UpdateRow(Base):
    """One outbound sponsor/CRO update as received, with Siteline's priority judgment and why."""

    __tablename__ = "triage_updates"
    __table_args__ = (
        Index("ix_triage_updates_study_received", "study", "received_at"),
        Index("ix_triage_updates_sender_received", "sender", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    update_id: Mapped[str] = mapped_column(String(128), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[str] = mapped_column(String(32))  # replay | api | cli | slack | ...
    sender: Mapped[str] = mapped_column(String(64))
    org: Mapped[str] = mapped_column(String(16))
    study: Mapped[str] = mapped_column(String(64))
    addressed: Mapped[Any] = mapped_column(JSON)  # "all" or the list as given
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    declared_priority: Mapped[str | None] = mapped_column(String(16), nullable=True)
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    priority: Mapped[str] = mapped_column(String(16))  # urgent | action | fyi
    reason: Mapped[str] = mapped_column(String(300))
    rule: Mapped[str] = mapped_column(String(64))
    core_text: Mapped[str] = mapped_column(Text)  # normalised text the dedupe compares
    keys: Mapped[list[str]] = mapped_column(JSON)  # numbers, dates, lots...: must match to merge


class ItemRow(Base):
    """The decision for one (update, site) pair: exactly one row per pair, never deleted.

    status: `pending` (waits for the site's digest), `queued` (in an outbox row: immediate or
    digest), `merged` (carried by `carrier_id`, still pending), `suppressed` (a repeat of
    `carrier_id`, already delivered; recorded, not sent).
    """

    __tablename__ = "triage_items"
    __table_args__ = (
        UniqueConstraint("update_id", "site_id"),
        Index("ix_triage_items_site_status", "site_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    update_id: Mapped[str] = mapped_column(String(128))
    site_id: Mapped[str] = mapped_column(String(64))
    study: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    priority: Mapped[str] = mapped_column(String(16))
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300))
    carrier_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    merged: Mapped[list[str]] = mapped_column(JSON, default=list)  # ids this item carries
    delivery_key: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)


class SiteStateRow(Base):
    """A site's digest group (Alertmanager's aggregation group, kept in SQL): when it next flushes."""

    __tablename__ = "triage_site_state"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    slot_note: Mapped[str] = mapped_column(String(200), default="")  # why this slot (e.g. fallback)
