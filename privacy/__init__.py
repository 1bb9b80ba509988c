"""PHI guard: finds HIPAA Safe Harbor identifiers in chat text and redacts them (see docs/privacy.md).

from privacy import default_guard
r = default_guard().redact(text)   # r.text is safe to store, log and send; r.notice() tells the user
"""

from privacy.guard import PARTICIPANT_IDS, PhiGuard, default_guard, redact_fields
from privacy.redaction import Finding, Redaction

__all__ = ["PARTICIPANT_IDS", "Finding", "PhiGuard", "Redaction", "default_guard", "redact_fields"]
