"""The PHI guard at the composition root's doors: the HTTP API, the CLI and replay.

The same guard the chat path uses (privacy.default_guard, behind Assistant.guard), applied before
the text is stored, logged, sent or embedded. Free text from site staff (a question, an escalation
summary) gets the whole guard, as in chat. A sponsor/CRO update is written to every site, and its
dates, staff names and helpdesk numbers are the message: it loses only identifiers that can only be
a participant's (privacy.PARTICIPANT_IDS), and the update's meaning, due date and dedupe survive.
"""

from __future__ import annotations

from privacy import PARTICIPANT_IDS, Redaction, default_guard, redact_fields
from triage.schemas import UpdateIn

UPDATE_TEXT = ("subject", "body")  # an update's free text (the rest are ids, dates and choices)


def redact(text: str) -> Redaction:
    """Site staff's free text, redacted as the chat path redacts it."""
    return default_guard().loaded().redact(text)


def redact_update(update: UpdateIn) -> UpdateIn:
    """The update with participant identifiers removed from its subject and body."""
    return redact_fields(update, UPDATE_TEXT, only=PARTICIPANT_IDS)
