"""Who is typing or clicking, and what they may act for: the directory decides every Slack surface.

Each slash command and button resolves the Slack user to a directory person first; someone not
in the directory gets the same polite refusal as for questions, and no study content. Helpers
here answer the scope questions the triage and escalation surfaces share (which sites a person
may send updates to, set digest times for, or raise an issue for).
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from bot.slack.runtime import SlackRuntime
from core.db import transaction
from core.directory import Directory
from core.domain import Person
from triage.service import TriageService

_services: WeakKeyDictionary[SlackRuntime, TriageService] = WeakKeyDictionary()


def triage_of(rt: SlackRuntime) -> TriageService:
    """One TriageService per Slack runtime (its policy is loaded once)."""
    service = _services.get(rt)
    if service is None:
        service = _services[rt] = TriageService.of(rt.container)
    return service


def person_of(rt: SlackRuntime, slack_user_id: str) -> Person | None:
    with transaction(rt.container.factory) as session:
        return Directory(session).person_by_slack(slack_user_id)
