"""The outbox payloads triage writes: contract items, plus what a chat adapter needs to render them.

`items` is exactly the replay contract's item list (id, priority, reason, merged); `details`
carries each update's study, sender, subject, a clipped body and due date, so a Slack or Teams
adapter can render a digest from the outbox row alone, without reading triage tables.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from triage.schemas import UpdateIn

BODY_CLIP = 1500


def item_json(update_id: str, priority: str, reason: str, merged: list[str]) -> dict[str, Any]:
    return {"id": update_id, "priority": priority, "reason": reason, "merged": list(merged)}


def detail(*, study: str, sender: str, org: str, subject: str, body: str, due: date | None) -> dict[str, Any]:
    clipped = body if len(body) <= BODY_CLIP else body[: BODY_CLIP - 1] + "…"
    return {
        "study": study,
        "from": sender,
        "org": org,
        "subject": subject,
        "body": clipped,
        "due": due.isoformat() if due else None,
    }


def details_of(update: UpdateIn) -> dict[str, Any]:
    return {
        update.id: detail(
            study=update.study,
            sender=update.sender,
            org=update.org,
            subject=update.subject,
            body=update.body,
            due=update.due,
        )
    }


def sort_key(priority: str, due: date | None, received_order: int) -> tuple[int, date, int]:
    """Digest order: urgent (if any), then action by earliest due, then fyi; arrival order breaks ties."""
    rank = {"urgent": 0, "action": 1, "fyi": 2}.get(priority, 3)
    return (rank, due or date.max, received_order)
