"""Where each escalation's story is told in Slack: the site channel and the ts of its root message.

Slack threads hang off a message's `ts`; the raise message of an escalation is posted once and
every later step (level notified, handed on, acknowledged, resolved) is posted in its thread.
Ids only: no message text is stored here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class SlackThreadRow(Base):
    """One escalation's thread in its site's Slack channel."""

    __tablename__ = "slack_escalation_threads"

    escalation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    thread_ts: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
