"""The digest flush: at a slot, every due site's pending items become one outbox row.

Run by the `triage.digest` wake-up timer (one per slot instant, shared by every site due then),
inside the timer's transaction: the digest rows, the items marked `queued` and the cleared slots
commit together, so a crash mid-flush either flushed or did not, and the timer fires again. A
slot that is no longer right (preferences changed, the service was down into quiet hours) is not
used: the site is re-armed for its next valid slot instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core import audit
from core.clock import iso
from core.models import TimerRow
from core.outbox import enqueue_many
from scheduler import timers
from triage import queries
from triage.engine import DIGEST_TIMER, wake_key
from triage.payloads import detail, item_json, sort_key
from triage.slots import in_quiet_hours, is_slot, next_slot
from triage.states import move_slot


def flush_due(session: Session, timer: TimerRow | None, now: datetime) -> int:
    """Flush every site whose slot is due at `now`; returns how many digests were queued."""
    dialect = session.get_bind().dialect.name
    states = session.execute(queries.due_states(dialect), {"now": now}).all()
    if not states:
        return 0
    sites = {r.site_id: r for r in session.execute(queries.SITES_BY_ID, {"ids": [s.site_id for s in states]})}
    ready: dict[str, datetime] = {}
    for site_id, slot in states:
        site = sites.get(site_id)
        if site is None:
            continue  # removed from the directory: its items stay pending, visible in stats
        prefs = {"tz": site.tz, "digest_times": list(site.digest_times or []), "quiet_hours": site.quiet_hours}
        local_now = now.astimezone(ZoneInfo(site.tz)).time()
        if is_slot(slot, **prefs) and not in_quiet_hours(local_now, site.quiet_hours):
            ready[site_id] = slot
        else:
            rearm(session, site_id, next_slot(now, **prefs).at, "slot no longer valid; re-armed")
    counts = _queue_digests(session, dialect, ready, now)
    if ready:
        session.execute(queries.CLEAR_SLOTS, {"ids": sorted(ready)})
        audit.record(
            session,
            now=now,
            actor="triage",
            action="triage.digest_flush",
            subject=iso(now),
            detail={"sites": len(ready), "digests": len(counts), "items": sum(counts.values())},
        )
    return len(counts)


def rearm(session: Session, site_id: str, at: datetime, note: str) -> None:
    move_slot(session, site_id, at, note)
    timers.schedule_many(session, [(wake_key(at), DIGEST_TIMER, at, {})])


def _queue_digests(session: Session, dialect: str, ready: dict[str, datetime], now: datetime) -> dict[str, int]:
    """One digest outbox row per site with pending items; returns site -> item count."""
    if not ready:
        return {}
    items = session.execute(queries.pending_items(dialect), {"ids": sorted(ready)}).all()
    if not items:
        return {}
    uids = sorted({i.update_id for i in items} | {m for i in items for m in (i.merged or [])})
    info = {u.update_id: u for u in session.execute(queries.UPDATE_INFO, {"uids": uids})}
    by_site: dict[str, list[Any]] = {}
    for it in items:
        by_site.setdefault(it.site_id, []).append(it)
    rows: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    for site_id, site_items in by_site.items():
        site_items.sort(key=lambda i: sort_key(i.priority, i.due, info[i.update_id].id))
        key = f"triage:digest:{site_id}:{iso(ready[site_id])}"
        shown = dict.fromkeys(x for i in site_items for x in (i.update_id, *(i.merged or [])))
        payload = {
            "items": [item_json(i.update_id, i.priority, i.reason, list(i.merged or [])) for i in site_items],
            "details": {uid: _detail(info[uid]) for uid in shown if uid in info},
            "slot": iso(ready[site_id]),
        }
        rows.append({"dedupe_key": key, "due_at": now, "channel": "site", "recipient": site_id, "kind": "digest",
                     "payload": payload})  # fmt: skip
        marks.extend({"row_id": i.id, "v_key": key} for i in site_items)
    enqueue_many(session, rows, now=now)
    session.execute(queries.MARK_QUEUED, marks)
    return {site_id: len(v) for site_id, v in by_site.items()}


def _detail(u: Any) -> dict[str, Any]:
    return detail(study=u.study, sender=u.sender, org=u.org, subject=u.subject, body=u.body, due=u.due)
