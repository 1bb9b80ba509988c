"""Escalation tables: policy versions, escalations (each with its policy snapshot), notices, events.

An escalation stores the chain it started with (`snapshot`), so a policy edit only affects new
escalations. Every notice is a row (who, which level, when due, which outbox key), which is what
lets ack/resolve drop notices still waiting for working hours and tell those already reached.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models import BigId


class PolicyVersionRow(Base):
    """Every routing policy ever given (replay line, API, file); the newest applies to new escalations."""

    __tablename__ = "escalation_policies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(200))
    routing: Mapped[dict[str, Any]] = mapped_column(JSON)


class EscalationRow(Base):
    __tablename__ = "escalations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    study: Mapped[str] = mapped_column(String(64), index=True)
    raised_by: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    category_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    severity_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    inference_reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(32))  # replay | api | cli | chat | open_question
    question_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    policy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the built-in default
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)  # the resolved chain this escalation follows
    # raised | notified | handed_on | acknowledged | resolved (see escalation.engine)
    status: Mapped[str] = mapped_column(String(16), index=True)
    level: Mapped[int] = mapped_column(Integer, default=0)  # highest level notified so far
    level_started: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # "level" -> ISO instant
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    clock_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)  # wall clock of the timeout
    halted: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the ladder cannot climb further
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    acked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class NoticeRow(Base):
    """One person told about one escalation at one level (the outbox row is keyed by `dedupe_key`)."""

    __tablename__ = "escalation_notices"
    __table_args__ = (UniqueConstraint("escalation_id", "level", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)


class EventRow(Base):
    """What happened to an escalation and why (raise, notice, hand-on, ack, resolve, dropped, halted)."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
