"""Each site's digest group state: the slot its pending items wait for (kept in SQL, so a restart
loses nothing). Locks are taken in site-id order by intake and flush alike, so they never deadlock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from triage.models import SiteStateRow


def lock_states(session: Session, site_ids: list[str], *, lock: bool) -> dict[str, datetime | None]:
    """Each listed site's next digest slot (None: nothing pending); row-locked on PostgreSQL if `lock`."""
    if not site_ids:
        return {}
    query = (
        select(SiteStateRow.site_id, SiteStateRow.next_digest_at)
        .where(SiteStateRow.site_id.in_(sorted(site_ids)))
        .order_by(SiteStateRow.site_id)
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return dict(session.execute(query).tuples().all())


def set_next_slots(session: Session, slots: dict[str, tuple[datetime, str]]) -> None:
    """Give sites with nothing pending their next slot; a slot already set is kept (it is earlier)."""
    table = SiteStateRow.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    ins = insert(table)
    stmt = ins.on_conflict_do_update(
        index_elements=["site_id"],
        set_={
            "next_digest_at": func.coalesce(table.c.next_digest_at, ins.excluded.next_digest_at),
            "slot_note": ins.excluded.slot_note,
        },
    )
    values = [{"site_id": s, "next_digest_at": at, "slot_note": note} for s, (at, note) in sorted(slots.items())]
    session.execute(stmt, values)


def move_slot(session: Session, site_id: str, at: datetime | None, note: str = "") -> None:
    """Set a site's slot outright (preferences changed, or a stale slot re-armed)."""
    table = SiteStateRow.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    ins = insert(table).values(site_id=site_id, next_digest_at=at, slot_note=note)
    session.execute(
        ins.on_conflict_do_update(index_elements=["site_id"], set_={"next_digest_at": at, "slot_note": note})
    )
