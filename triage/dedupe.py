"""Is this update a repeat of one a site already has? (a reminder, a resend, a forward, sponsor + CRO)

Two updates are the same topic when they are on the same study, the earlier one arrived within
the policy's window (7 days), their keys (numbers, dates, lot codes, meaning-changing words) are
identical, any `due` dates agree, and their normalised texts are near-identical by rapidfuzz. The
keys make look-alikes safe: "Stop dispensing lot L5744" never carries "Stop dispensing lot L3386".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.fingerprint import Fingerprint
from triage.models import UpdateRow
from triage.policy import DedupePolicy


@dataclass(frozen=True)
class Match:
    update_id: str
    received_at: datetime
    score: float  # rapidfuzz token_set_ratio, 0-100


def similarity(a: str, b: str, policy: DedupePolicy) -> float | None:
    """The token-set score when both rapidfuzz scores clear the policy's thresholds, else None."""
    pa, pb = default_process(a), default_process(b)
    score = fuzz.token_set_ratio(pa, pb, processor=None, score_cutoff=policy.min_token_set_ratio)
    if not score:
        return None
    if fuzz.token_sort_ratio(pa, pb, processor=None) < policy.min_token_sort_ratio:
        return None
    return float(score)


def same_topic(
    new: Fingerprint, new_due: date | None, old_core: str, old_keys: list[str], old_due: date | None, p: DedupePolicy
) -> float | None:
    """The similarity score if `new` repeats the older message, else None."""
    if new.keys != frozenset(old_keys):
        return None
    if new_due is not None and old_due is not None and new_due != old_due:
        return None
    return similarity(new.core, old_core, p)


def find_matches(
    session: Session,
    *,
    update_id: str,
    study: str,
    fp: Fingerprint,
    due: date | None,
    now: datetime,
    policy: DedupePolicy,
) -> list[Match]:
    """Earlier updates on the same study within the window that this one repeats, oldest first."""
    since = now - timedelta(days=policy.window_days)
    rows = session.execute(
        select(UpdateRow.update_id, UpdateRow.received_at, UpdateRow.core_text, UpdateRow.keys, UpdateRow.due)
        .where(UpdateRow.study == study, UpdateRow.received_at >= since, UpdateRow.update_id != update_id)
        .order_by(UpdateRow.received_at, UpdateRow.id)
    ).all()
    matches = []
    for uid, received_at, core, keys, old_due in rows:
        score = same_topic(fp, due, core, keys, old_due, policy)
        if score is not None:
            matches.append(Match(uid, received_at, score))
    return matches
