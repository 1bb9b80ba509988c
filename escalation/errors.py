"""What the escalation engine refuses, and how surfaces should report it (`status` maps to HTTP)."""

from __future__ import annotations


class EscalationError(ValueError):
    """Input the engine refuses; the message says what was wrong. Subclasses map to HTTP codes."""

    status = 422


class NotFound(EscalationError):
    status = 404


class Conflict(EscalationError):
    status = 409


class Forbidden(EscalationError):
    status = 403
