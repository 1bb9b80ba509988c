"""Is this update a repeat of one a site already has? (a reminder, a resend, a forward, sponsor + CRO)

Never across studies, and only of an update received within the policy's window (7 days). Then
the keys decide first (triage.keys): a repeat brings no date, number, code or flip word that the
earlier message lacks, so "lot KB-25-0112" never repeats "lot KB-24-0917" and "Amendment 4"
never repeats "Amendment 3". Two ways to be the same message remain:

- **copy**: the same keys, the same content words and near-identical text (rapidfuzz `ratio`):
  a resend, a copy from another sender, a reminder whose wrapper was taken off;
- **relay**: the new message says it passes something on (a "Reminder:"/"FW:" prefix, a quoted
  original, "Please see below from the sponsor", "Heads-up from ...") or both were made urgent by
  the same content rule (a CRO's own words for the sponsor's dosing stop), and most of its content
  words are in the earlier one (overlap and rapidfuzz `token_set_ratio` of the stemmed words),
  more strictly when no date, code or number anchors the two together. A near-identical text with
  a word swapped ("audit visit" for "monitoring visit") is a look-alike, not a relay.

The best-scoring earlier message carries the repeat (a copy before a relay).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process
from sqlalchemy.orm import Session

from triage import queries
from triage.fingerprint import Fingerprint, content_words
from triage.policy import DedupePolicy

COPY_BONUS = 100.0  # a copy always ranks before a relay


@dataclass(frozen=True)
class Match:
    update_id: str
    received_at: datetime
    score: float  # copies 100 + ratio; relays overlap × token_set_ratio


def anchor_strength(keys: Iterable[str]) -> float:
    """How strongly shared keys tie two messages together: a code 2, a date, time or long number 1,
    a month or a short number ½ ("3" is common; "KB-24-0917" is not)."""
    total = 0.0
    for k in keys:
        if k.startswith("flip:"):
            continue
        if k.startswith(("d:", "t:")):
            total += 1
        elif k.startswith("m:"):
            total += 0.5
        elif k.startswith("n:"):
            total += 1 if len(k) >= 4 else 0.5
        else:
            total += 2
    return total


def _variant(word: str, others: Iterable[str]) -> bool:
    """ "sent" and "send", "randomis" and "randomisation": one word in two forms."""
    return any(fuzz.ratio(word, o) >= 75 or (len(word) >= 4 and o[:4] == word[:4]) for o in others)


def _swapped(new: frozenset[str], old: frozenset[str]) -> bool:
    """Some content word replaced by an unrelated one ("audit" for "monitoring")."""
    added = [w for w in new - old if not _variant(w, old - new)]
    dropped = [w for w in old - new if not _variant(w, new - old)]
    return bool(added) and bool(dropped)


def same_topic(
    new: Fingerprint, new_due: date | None, old_core: str, old_keys: Iterable[str], old_due: date | None,
    p: DedupePolicy, *, same_kind: bool = False,
) -> float | None:  # fmt: skip
    """A score if `new` repeats the older message (higher is a closer repeat), else None.
    `same_kind`: both were judged urgent by the same content rule (e.g. both an enrolment hold),
    which anchors a relay like a shared date does."""
    old_key_set = frozenset(old_keys)
    if new_due is not None and old_due is not None and new_due != old_due:
        return None
    if not new.keys <= old_key_set:
        return None  # a new date, number, code or flip word: new news
    a, b = default_process(old_core), default_process(new.core)
    old_words, new_words = content_words(old_core), new.words
    if new.keys == old_key_set and new_words == old_words:
        ratio = fuzz.ratio(a, b, score_cutoff=p.min_ratio)
        if ratio:
            return COPY_BONUS + ratio
    if not (new.relay or same_kind) or len(new_words) < p.relay_min_words:
        return None
    overlap = len(new_words & old_words) / len(new_words)
    anchored = same_kind or anchor_strength(new.keys & old_key_set) >= 1
    min_overlap = p.relay_min_overlap if anchored else p.relay_unanchored_min_overlap
    min_set = p.relay_min_token_set if anchored else p.relay_unanchored_min_token_set
    if overlap < min_overlap:
        return None
    token_set = fuzz.token_set_ratio(" ".join(sorted(new_words)), " ".join(sorted(old_words)))
    if token_set < min_set:
        return None
    if fuzz.ratio(a, b) >= p.min_ratio and _swapped(new_words, old_words):
        return None
    return overlap * token_set


@dataclass
class Scan:
    """The window's earlier updates as one read found them: the ids read, and those the new update
    repeats. Stored updates never change, so a scan made before the write lock stays true under it;
    only updates stored since need reading (`find_matches`)."""

    seen: set[int]
    matches: dict[int, Match]  # by row id

    def best_first(self) -> list[Match]:
        """The closest repeat first; among equals, the one received first, then the one stored first."""
        ranked = sorted(self.matches.items(), key=lambda kv: (-kv[1].score, kv[1].received_at, kv[0]))
        return [m for _, m in ranked]


def find_matches(
    session: Session,
    *,
    update_id: str,
    study: str,
    fp: Fingerprint,
    due: date | None,
    now: datetime,
    policy: DedupePolicy,
    urgent_rule: str | None = None,
    earlier: Scan | None = None,
) -> Scan:
    """Earlier updates on the same study within the window that this one repeats (`best_first()`).
    `urgent_rule`: the content rule that made this update urgent, if one did. `earlier`: a scan of the
    same window made before the write lock was taken; then only the window's ids are read, and only the
    updates that scan did not see are read and scored (on a busy study the window holds hundreds, and
    every writer of a SQLite file waits while this one holds the lock). The result is the same as a
    full scan made now."""
    patterns = queries.key_patterns(fp.keys)
    params = {"study": study, "since": now - timedelta(days=policy.window_days), "uid": update_id, **patterns}
    if earlier is None:
        rows = session.execute(queries.candidates(len(patterns)), params).all()
        seen: set[int] = {row.id for row in rows}
        matches: dict[int, Match] = {}
    else:
        seen = set(session.execute(queries.candidate_ids(len(patterns)), params).scalars())
        matches = {i: m for i, m in earlier.matches.items() if i in seen}
        new = sorted(seen - earlier.seen)
        rows = session.execute(queries.CANDIDATES_BY_ID, {"ids": new}).all() if new else []
    for row_id, uid, received_at, core, keys, old_due, old_rule in rows:
        same_kind = urgent_rule is not None and old_rule == urgent_rule
        score = same_topic(fp, due, core, keys, old_due, policy, same_kind=same_kind)
        if score is not None:
            matches[row_id] = Match(uid, received_at, score)
    return Scan(seen, matches)
