"""The escalation engine's seam into `siteline replay` and `serve` (see scheduler.plugins)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.settings import Settings
from escalation.lines import AckLine, EscalationLine, PolicyLine, ResolveLine
from escalation.policy_store import store_policy
from scheduler.plugins import EnginePlugin


def plugin(settings: Settings) -> EnginePlugin:
    def on_policy(session: Session, line: dict[str, Any], now: datetime) -> None:
        store_policy(session, routing=line["routing"], source="replay", by="replay", now=now)

    def pending(session: Session, line: dict[str, Any], now: datetime) -> None:
        """Accepted while the routing engine is being built (temporary)."""

    return EnginePlugin(
        name="escalation",
        line_models={"policy": PolicyLine, "escalation": EscalationLine, "ack": AckLine, "resolve": ResolveLine},
        line_handlers={"policy": on_policy, "escalation": pending, "ack": pending, "resolve": pending},
        timer_handlers={},
    )
