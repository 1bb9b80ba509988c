"""Is this update a repeat of one a site already has? (a reminder, a resend, a forward, sponsor + CRO)

Two updates are the same topic when they are on the same study, the earlier one arrived within
the policy's window (7 days), their keys (numbers, dates, lot codes) are identical, any `due`
dates agree, neither has a meaningful word the other lacks ("audit visit" is not "monitoring
visit"), and their normalised texts are near-identical in order too (rapidfuzz). Look-alikes are
safe: "Stop dispensing lot L5744" never carries "Stop dispensing lot L3386".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process
from sqlalchemy.orm import Session

from triage import queries
from triage.fingerprint import Fingerprint, content_words
from triage.policy import DedupePolicy


@dataclass(frozen=True)
class Match:
    update_id: str
    received_at: datetime
    score: float  # rapidfuzz ratio, 0-100


def similarity(a: str, b: str, policy: DedupePolicy) -> float | None:
    """rapidfuzz's ratio of the normalised texts when it clears the policy's threshold, else None."""
    score = fuzz.ratio(default_process(a), default_process(b), score_cutoff=policy.min_ratio)
    return float(score) if score else None


def same_topic(
    new: Fingerprint, new_due: date | None, old_core: str, old_keys: list[str], old_due: date | None, p: DedupePolicy
) -> float | None:
    """The similarity score if `new` repeats the older message, else None."""
    if new.keys != frozenset(old_keys):
        return None
    if new_due is not None and old_due is not None and new_due != old_due:
        return None
    if new.words != content_words(old_core):
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
    rows = session.execute(queries.CANDIDATES, {"study": study, "since": since, "uid": update_id}).all()
    matches = []
    for uid, received_at, core, keys, old_due in rows:
        score = same_topic(fp, due, core, keys, old_due, policy)
        if score is not None:
            matches.append(Match(uid, received_at, score))
    return matches
