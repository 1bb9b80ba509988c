"""The escalation engine's public, platform-neutral functions (what chat, HTTP and CLI surfaces call).

All take a session (the caller's transaction) and `now`; none reads the clock or the environment.
Errors are `EscalationError` subclasses whose `status` maps to HTTP (404 unknown, 403 out of
scope, 409 conflicting state, 422 bad input) and whose message names the field.
"""

from __future__ import annotations

from escalation.engine import raise_escalation
from escalation.errors import Conflict, EscalationError, Forbidden, NotFound
from escalation.open_questions import open_question_to_escalation
from escalation.policy import PolicyError, parse_policy
from escalation.policy_store import current_policy, store_policy
from escalation.respond import ack, get, resolve
from escalation.views import (
    ack_by,
    describe_path,
    history,
    ladder_so_far,
    list_for_site,
    list_open,
    status_now,
    to_view,
)

__all__ = [
    "Conflict",
    "EscalationError",
    "Forbidden",
    "NotFound",
    "PolicyError",
    "ack",
    "ack_by",
    "current_policy",
    "describe_path",
    "get",
    "history",
    "ladder_so_far",
    "list_for_site",
    "list_open",
    "open_question_to_escalation",
    "parse_policy",
    "raise_escalation",
    "resolve",
    "status_now",
    "store_policy",
    "to_view",
]
