"""The PHI guard at the composition root's doors: the HTTP API, the CLI and replay.

The same guard the chat path uses (privacy.default_guard, behind Assistant.guard), applied before
the text is stored, logged, sent or embedded. Free text from site staff (a question, an escalation
summary) gets the whole guard, as in chat. A sponsor/CRO update is written to every site, and its
dates, staff names and helpdesk numbers are the message: it loses only identifiers that can only be
a participant's (privacy.PARTICIPANT_IDS), and the update's meaning, due date and dedupe survive.
"""

from __future__ import annotations

from privacy import PARTICIPANT_IDS, Redaction, default_guard
from triage.schemas import UpdateIn


def redact(text: str) -> Redaction:
    """Site staff's free text, redacted as the chat path redacts it."""
    return default_guard().loaded().redact(text)


def redact_update(update: UpdateIn) -> UpdateIn:
    """The update with participant identifiers removed from its subject and body."""
    guard = default_guard()
    subject = guard.redact(update.subject, only=PARTICIPANT_IDS)
    body = guard.redact(update.body, only=PARTICIPANT_IDS)
    if not (subject.changed or body.changed):
        return update
    return update.model_copy(update={"subject": subject.text, "body": body.text})
