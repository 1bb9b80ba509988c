"""Chat tables: handled deliveries (dedupe), where each answer was posted, and Ask-my-CRA questions.

All text stored here has been through the PHI guard first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models import BigId


class ChatEventRow(Base):
    """A platform delivery we have taken on; the unique key is what makes retries harmless,
    across replicas and restarts alike."""

    __tablename__ = "chat_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"), Index("ix_chat_events_received", "received_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="working")  # working | done


class ChatAnswerRow(Base):
    """Where an answer was given (conversation, thread, site), so a CRA's reply can go back there.
    The question and answer themselves are the knowledge engine's rows (`questions`, `answers`)."""

    __tablename__ = "chat_answers"

    answer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    platform: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(300))
    thread_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    is_direct: Mapped[bool] = mapped_column(Boolean, default=False)
    site_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    asker: Mapped[str] = mapped_column(String(64), index=True)
    studies: Mapped[list[str]] = mapped_column(JSON, default=list)


class OpenQuestionRow(Base):
    """A question handed to the site's CRA(s) with *Ask my CRA*; open until a CRA answers
    (or it becomes a protocol_clarification escalation after the configured wait)."""

    __tablename__ = "open_questions"
    __table_args__ = (Index("ix_open_questions_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    answer_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    study: Mapped[str] = mapped_column(String(64))
    asked_by: Mapped[str] = mapped_column(String(64), index=True)  # who asked the bot
    handed_off_by: Mapped[str] = mapped_column(String(64))  # who pressed Ask my CRA
    question: Mapped[str] = mapped_column(Text)  # redacted
    bot_answer: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)  # CRA person ids
    platform: Mapped[str] = mapped_column(String(16))
    conversation_id: Mapped[str] = mapped_column(String(300))
    thread_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    is_direct: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | answered | escalated
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answer_text: Mapped[str | None] = mapped_column(Text, nullable=True)  # redacted
    escalation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
