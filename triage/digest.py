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

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit
from core.clock import iso
from core.models import SiteRow, TimerRow
from core.outbox import enqueue_many
from scheduler import timers
from triage.engine import DIGEST_TIMER, wake_key
from triage.models import ItemRow, SiteStateRow, UpdateRow
from triage.payloads import detail, item_json, sort_key
from triage.slots import in_quiet_hours, is_slot, next_slot
from triage.states import move_slot


def flush_due(session: Session, timer: TimerRow | None, now: datetime) -> int:
    """Flush every site whose slot is due at `now`; returns how many digests were queued."""
    query = (
        select(SiteStateRow)
        .where(SiteStateRow.next_digest_at.is_not(None), SiteStateRow.next_digest_at <= now)
        .order_by(SiteStateRow.site_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # wait for an intake holding a site, then see its result
    states = list(session.execute(query).scalars())
    if not states:
        return 0
    sites = {
        r.site_id: r
        for r in session.execute(select(SiteRow).where(SiteRow.site_id.in_([s.site_id for s in states]))).scalars()
    }
    ready: dict[str, datetime] = {}
    for state in states:
        site = sites.get(state.site_id)
        slot = state.next_digest_at
        assert slot is not None
        if site is None:
            continue  # removed from the directory: its items stay pending, visible in stats
        prefs = {"tz": site.tz, "digest_times": list(site.digest_times or []), "quiet_hours": site.quiet_hours}
        local_now = now.astimezone(ZoneInfo(site.tz)).time()
        if is_slot(slot, **prefs) and not in_quiet_hours(local_now, site.quiet_hours):
            ready[state.site_id] = slot
        else:
            rearm(session, state.site_id, next_slot(now, **prefs).at, "slot no longer valid; re-armed")
    flushed = _queue_digests(session, ready, now)
    if ready:
        session.execute(
            update(SiteStateRow).where(SiteStateRow.site_id.in_(list(ready))).values(next_digest_at=None, slot_note="")
        )
        audit.record(
            session,
            now=now,
            actor="triage",
            action="triage.digest_flush",
            subject=iso(now),
            detail={"sites": len(ready), "digests": len(flushed), "items": sum(flushed.values())},
        )
    return len(flushed)


def rearm(session: Session, site_id: str, at: datetime, note: str) -> None:
    move_slot(session, site_id, at, note)
    timers.schedule(session, key=wake_key(at), kind=DIGEST_TIMER, due_at=at, payload={})


def _queue_digests(session: Session, ready: dict[str, datetime], now: datetime) -> dict[str, int]:
    """One digest outbox row per site with pending items; returns site -> item count."""
    if not ready:
        return {}
    item_query = (
        select(ItemRow)
        .where(ItemRow.site_id.in_(sorted(ready)), ItemRow.status == "pending")
        .order_by(ItemRow.site_id, ItemRow.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        item_query = item_query.with_for_update()
    items = list(session.execute(item_query).scalars())
    if not items:
        return {}
    update_ids = sorted({i.update_id for i in items} | {m for i in items for m in (i.merged or [])})
    info = {
        u.update_id: u
        for u in session.execute(
            select(
                UpdateRow.id,
                UpdateRow.update_id,
                UpdateRow.study,
                UpdateRow.sender,
                UpdateRow.org,
                UpdateRow.subject,
                UpdateRow.body,
                UpdateRow.due,
            ).where(UpdateRow.update_id.in_(update_ids))
        ).all()
    }
    by_site: dict[str, list[ItemRow]] = {}
    for it in items:
        by_site.setdefault(it.site_id, []).append(it)
    rows: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for site_id, site_items in by_site.items():
        site_items.sort(key=lambda i: sort_key(i.priority, i.due, info[i.update_id].id))
        key = f"triage:digest:{site_id}:{iso(ready[site_id])}"
        payload = {
            "items": [item_json(i.update_id, i.priority, i.reason, list(i.merged or [])) for i in site_items],
            "details": {
                uid: detail(study=u.study, sender=u.sender, org=u.org, subject=u.subject, body=u.body, due=u.due)
                for uid in dict.fromkeys(x for i in site_items for x in (i.update_id, *(i.merged or [])))
                if (u := info.get(uid)) is not None
            },
            "slot": iso(ready[site_id]),
        }
        rows.append({"dedupe_key": key, "due_at": now, "channel": "site", "recipient": site_id, "kind": "digest",
                     "payload": payload})  # fmt: skip
        marks.extend({"id": i.id, "status": "queued", "delivery_key": key} for i in site_items)
        counts[site_id] = len(site_items)
    enqueue_many(session, rows, now=now)
    session.execute(update(ItemRow), marks)  # bulk UPDATE by primary key
    return counts
