"""The triage engine's seam into `siteline replay` and `serve` (see scheduler.plugins).

Replay and the live service load this same plugin: an `update` line (or API call) goes through
`TriageEngine.receive`, and the `triage.digest` wake-up timers flush digests, under a virtual
clock in replay and under APScheduler in `serve`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.models import TimerRow
from core.settings import Settings
from scheduler.plugins import EnginePlugin
from triage.digest import flush_due
from triage.engine import DIGEST_TIMER, TriageEngine
from triage.policy import policy_for
from triage.refine import build_refiner
from triage.schemas import UpdateIn


def build_engine(settings: Settings) -> TriageEngine:
    """The engine with the configured policy (and the LLM refiner when the policy and settings allow)."""
    policy = policy_for(settings)
    return TriageEngine(policy, build_refiner(settings, policy))


def plugin(settings: Settings) -> EnginePlugin:
    engine = build_engine(settings)

    def on_update(session: Session, line: dict[str, Any], now: datetime) -> None:
        engine.receive(session, UpdateIn.model_validate(line), now, source="replay", actor=str(line.get("from")))

    def on_digest(session: Session, timer: TimerRow, now: datetime) -> None:
        flush_due(session, timer, now)

    return EnginePlugin(
        name="triage",
        line_models={"update": UpdateIn},
        line_handlers={"update": on_update},
        timer_handlers={DIGEST_TIMER: on_digest},
    )
