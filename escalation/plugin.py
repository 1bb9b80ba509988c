"""The escalation engine's seam into `siteline replay` and `serve` (see scheduler.plugins).

Replay input is the operator's own scenario, so its lines are routed without the per-person
scope checks the chat and HTTP surfaces apply (`strict=False`); everything else is the same code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.settings import Settings
from escalation.engine import HAND_ON, hand_on, raise_escalation
from escalation.errors import EscalationError
from escalation.infer import load_rules
from escalation.lines import AckLine, EscalationLine, PolicyLine, ResolveLine
from escalation.policy import PolicyError
from escalation.policy_store import configured_policy, store_policy
from escalation.respond import ack, resolve
from scheduler.plugins import EnginePlugin, LineHandler, LineRejected


def plugin(settings: Settings) -> EnginePlugin:
    configured_policy(settings)  # a bad policy file stops start-up, naming the field (PluginError)
    load_rules()

    def on_policy(session: Session, line: dict[str, Any], now: datetime) -> None:
        store_policy(session, routing=line["routing"], source="replay", by="replay", now=now)

    def on_escalation(session: Session, line: dict[str, Any], now: datetime) -> None:
        raise_escalation(
            session,
            site=line["site"],
            study=line["study"],
            raised_by=line["raised_by"],
            summary=line["summary"],
            category=line.get("category"),
            severity=line.get("severity"),
            now=now,
            source="replay",
            escalation_id=line["id"],
            settings=settings,
            strict=False,
        )

    def on_ack(session: Session, line: dict[str, Any], now: datetime) -> None:
        ack(session, escalation_id=line["escalation"], by=line["by"], now=now, strict=False)

    def on_resolve(session: Session, line: dict[str, Any], now: datetime) -> None:
        resolve(session, escalation_id=line["escalation"], by=line["by"], now=now, strict=False)

    return EnginePlugin(
        name="escalation",
        line_models={"policy": PolicyLine, "escalation": EscalationLine, "ack": AckLine, "resolve": ResolveLine},
        line_handlers={
            "policy": _rejecting(on_policy),
            "escalation": _rejecting(on_escalation),
            "ack": _rejecting(on_ack),
            "resolve": _rejecting(on_resolve),
        },
        timer_handlers={HAND_ON: hand_on},
    )


def _rejecting(handler: LineHandler) -> LineHandler:
    """Engine refusals (unknown site or escalation, duplicate id, bad policy) become bad replay lines."""

    def run(session: Session, line: dict[str, Any], now: datetime) -> None:
        try:
            handler(session, line, now)
        except (EscalationError, PolicyError) as exc:
            raise LineRejected(str(exc)) from None

    return run
