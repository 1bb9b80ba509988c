"""Where the bot can reach people and channels in Teams: conversation references learned from traffic.

Teams only lets a bot post into a conversation it knows (its id and the regional `serviceUrl`).
Every inbound activity refreshes its conversation's row, so a person who has talked to the bot
once (or installed the app) can later get an Ask-my-CRA card or an escalation in their 1:1 chat,
and a site channel whose `serviceUrl` the directory lacks is still reachable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class TeamsConversationRow(Base):
    """One Teams conversation the bot has seen (ids only: no message text is ever stored here)."""

    __tablename__ = "teams_conversations"
    __table_args__ = (
        Index("ix_teams_conversations_user", "user_id"),
        Index("ix_teams_conversations_aad", "aad_object_id"),
    )

    conversation_id: Mapped[str] = mapped_column(String(300), primary_key=True)  # without ";messageid=…"
    kind: Mapped[str] = mapped_column(String(16))  # personal | channel | groupChat
    service_url: Mapped[str] = mapped_column(String(300))
    tenant_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    bot_id: Mapped[str | None] = mapped_column(String(300), nullable=True)  # the bot's id in this tenant ("28:…")
    user_id: Mapped[str | None] = mapped_column(String(300), nullable=True)  # personal: the user's Teams id ("29:…")
    aad_object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)  # personal: the user's Entra id
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
