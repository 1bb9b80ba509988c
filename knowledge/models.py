"""Knowledge tables: documents and their versions, chunk metadata, questions, answers, feedback."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models import BigId


class DocumentRow(Base):
    """A document of a study (one file name), across all its versions."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("study", "doc_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    study: Mapped[str] = mapped_column(String(64), index=True)
    doc_key: Mapped[str] = mapped_column(String(300))  # the file's base name without extension
    kind: Mapped[str] = mapped_column(String(20))  # protocol | sop | manual | other | clarification
    title: Mapped[str] = mapped_column(String(500))


class DocumentVersionRow(Base):
    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "content_hash"),
        Index("ix_document_versions_current", "document_id", "is_current"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(64))
    effective: Mapped[date | None] = mapped_column(Date, nullable=True)
    file_name: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)


class ChunkRow(Base):
    """A retrievable passage; `id` is also its id in the vector store."""

    __tablename__ = "chunks"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"), index=True)
    study: Mapped[str] = mapped_column(String(64), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    section: Mapped[str] = mapped_column(String(500), default="")
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    page_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # [[char offset, page], ...] where the page changes inside the chunk: a quote's exact page
    page_map: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)


class QuestionRow(Base):
    """A question as stored: PHI already redacted before it reached this table."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    asker: Mapped[str] = mapped_column(String(200))
    surface: Mapped[str] = mapped_column(String(32))  # cli | api | slack | teams
    studies: Mapped[list[str]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    phi_redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    conversation_ref: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class AnswerRow(Base):
    __tablename__ = "answers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)
    abstained: Mapped[bool] = mapped_column(Boolean)
    mode: Mapped[str] = mapped_column(String(16))
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(32))  # helpful | not_helpful | ask_cra
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
