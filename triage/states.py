"""Each site's digest group state: the slot its pending items wait for (kept in SQL, so a restart
loses nothing). Locks are taken in site-id order by intake and flush alike, so they never deadlock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.db import hold_write_lock
from triage import queries


def lock_states(session: Session, site_ids: list[str], *, lock: bool) -> dict[str, datetime | None]:
    """Each listed site's next digest slot (None: nothing pending); row-locked on PostgreSQL if `lock`."""
    if not site_ids:
        return {}
    if lock:
        hold_write_lock(session)  # SQLite: no row locks; the file's write lock serialises intake and flush instead
    stmt = queries.states_of(session.get_bind().dialect.name, lock)
    return dict(session.execute(stmt, {"ids": sorted(site_ids)}).tuples().all())


def set_next_slots(session: Session, slots: dict[str, tuple[datetime, str]]) -> None:
    """Give sites with nothing pending their next slot; a slot already set is kept (it is earlier)."""
    values = [{"site_id": s, "next_digest_at": at, "slot_note": note} for s, (at, note) in sorted(slots.items())]
    session.execute(queries.upsert_slots(session.get_bind().dialect.name, True), values)


def move_slot(session: Session, site_id: str, at: datetime | None, note: str = "") -> None:
    """Set a site's slot outright (preferences changed, or a stale slot re-armed)."""
    values = [{"site_id": site_id, "next_digest_at": at, "slot_note": note}]
    session.execute(queries.upsert_slots(session.get_bind().dialect.name, False), values)
