"""The SQL triage runs for every update and every digest slot, built once.

Building a SQLAlchemy statement costs far more than running it on an indexed table; a month of
traffic for a thousand sites runs these tens of thousands of times, so they are constructed once
(per dialect where row locks or JSON functions differ) and executed with bound parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import String, Text, bindparam, case, cast, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.models import SiteRow
from triage.models import ItemRow, SiteStateRow, UpdateRow

PG = "postgresql"
_SITE_COLUMNS = (SiteRow.site_id, SiteRow.tz, SiteRow.digest_times, SiteRow.quiet_hours, SiteRow.studies)

UPDATE_EXISTS = select(UpdateRow.id).where(UpdateRow.update_id == bindparam("uid"))

SENDER_RECORD = select(
    func.count(), func.coalesce(func.sum(case((UpdateRow.declared_priority == "urgent", 1), else_=0)), 0)
).where(UpdateRow.sender == bindparam("sender"), UpdateRow.received_at >= bindparam("since"))

SITES_BY_ID = select(*_SITE_COLUMNS).where(SiteRow.site_id.in_(bindparam("ids", expanding=True)))

_CANDIDATE_COLUMNS = (
    UpdateRow.id, UpdateRow.update_id, UpdateRow.received_at, UpdateRow.core_text, UpdateRow.keys, UpdateRow.due,
    UpdateRow.rule,
)  # fmt: skip
_IN_WINDOW = (
    UpdateRow.study == bindparam("study"),
    UpdateRow.received_at >= bindparam("since"),
    UpdateRow.update_id != bindparam("uid"),
)
CANDIDATES_BY_ID = select(*_CANDIDATE_COLUMNS).where(UpdateRow.id.in_(bindparam("ids", expanding=True)))
HELD_KEYS = 3  # at most this many of the new update's keys are checked in SQL (the rest in Python)


@cache
def candidates(held: int) -> Any:
    """The window's updates whose stored keys hold `held` given keys (`k0`…: `key_patterns`), ranked by
    `dedupe.Scan.best_first`. A repeat brings no key the earlier message lacks, so the others can never
    match: on a busy study they were most of what each intake read, decoded and scored."""
    return select(*_CANDIDATE_COLUMNS).where(*_IN_WINDOW, *_holding(held))


@cache
def candidate_ids(held: int) -> Any:
    """`candidates`, ids only (the window again, under the lock)."""
    return select(UpdateRow.id).where(*_IN_WINDOW, *_holding(held))


def _holding(held: int) -> list[Any]:
    stored = cast(UpdateRow.keys, Text)
    return [stored.like(bindparam(f"k{i}"), escape="/") for i in range(held)]


def _telling(key: str) -> tuple[bool, int, str]:
    """Codes, dates and long numbers before meaning-flipping words ("cancelled" is in many updates)."""
    return key.startswith("flip:"), -len(key), key


def key_patterns(keys: Iterable[str]) -> dict[str, str]:
    """LIKE patterns for the most telling of `keys` (`_telling`), as the JSON array stores them: the key's
    JSON string, quotes included, so it matches one whole element. A pattern never keeps out a match; at worst
    it lets through a row the Python check then refuses. Keys JSON would escape (non-ASCII) are left to it."""
    usable = sorted((k for k in keys if k.isascii() and json.dumps(k) == f'"{k}"'), key=_telling)
    escaped = (f'"{k}"'.replace("/", "//").replace("%", "/%").replace("_", "/_") for k in usable[:HELD_KEYS])
    return {f"k{i}": f"%{e}%" for i, e in enumerate(escaped)}


INSERT_UPDATE = insert(UpdateRow.__table__)
INSERT_ITEMS = insert(ItemRow.__table__)
_items = ItemRow.__table__
SET_MERGED = update(_items).where(_items.c.id == bindparam("row_id")).values(merged=bindparam("v_merged"))
PROMOTE = (
    update(_items)
    .where(_items.c.id == bindparam("row_id"))
    .values(
        merged=bindparam("v_merged"),
        status="queued",
        priority="urgent",
        reason=bindparam("v_reason"),
        delivery_key=bindparam("v_key"),
    )
)
MARK_QUEUED = (
    update(_items).where(_items.c.id == bindparam("row_id")).values(status="queued", delivery_key=bindparam("v_key"))
)
CLEAR_SLOTS = (
    update(SiteStateRow)
    .where(SiteStateRow.site_id.in_(bindparam("ids", expanding=True)))
    .values(next_digest_at=None, slot_note="")
)
UPDATE_INFO = select(
    UpdateRow.id,
    UpdateRow.update_id,
    UpdateRow.study,
    UpdateRow.sender,
    UpdateRow.org,
    UpdateRow.subject,
    UpdateRow.body,
    UpdateRow.due,
).where(UpdateRow.update_id.in_(bindparam("uids", expanding=True)))


def _locked(stmt: Any, dialect: str) -> Any:
    return stmt.with_for_update() if dialect == PG else stmt


@cache
def sites_on_study(dialect: str) -> Any:
    """Every site whose `studies` list holds :study (JSON containment differs per dialect)."""
    if dialect == PG:
        cond = SiteRow.studies.cast(JSONB).has_key(bindparam("study", type_=String))
    else:
        each = func.json_each(SiteRow.studies).table_valued("value", joins_implicitly=True)
        cond = exists(select(1).select_from(each).where(each.c.value == bindparam("study")))
    return select(*_SITE_COLUMNS).where(cond).order_by(SiteRow.site_id)


@cache
def states_of(dialect: str, lock: bool) -> Any:
    stmt = (
        select(SiteStateRow.site_id, SiteStateRow.next_digest_at)
        .where(SiteStateRow.site_id.in_(bindparam("ids", expanding=True)))
        .order_by(SiteStateRow.site_id)
    )
    return _locked(stmt, dialect) if lock else stmt


@cache
def carriers(dialect: str, lock: bool) -> Any:
    stmt = (
        select(
            ItemRow.id, ItemRow.update_id, ItemRow.site_id, ItemRow.status, ItemRow.priority, ItemRow.reason,
            ItemRow.merged,
        )
        .where(
            ItemRow.update_id.in_(bindparam("uids", expanding=True)),
            ItemRow.site_id.in_(bindparam("ids", expanding=True)),
            ItemRow.status.in_(("pending", "queued")),
        )
        .order_by(ItemRow.id)
    )  # fmt: skip
    return _locked(stmt, dialect) if lock else stmt


@cache
def due_states(dialect: str) -> Any:
    stmt = (
        select(SiteStateRow.site_id, SiteStateRow.next_digest_at)
        .where(SiteStateRow.next_digest_at.is_not(None), SiteStateRow.next_digest_at <= bindparam("now"))
        .order_by(SiteStateRow.site_id)
    )
    return _locked(stmt, dialect)  # wait for an intake holding a site, then see its result


@cache
def pending_items(dialect: str) -> Any:
    stmt = (
        select(
            ItemRow.id, ItemRow.update_id, ItemRow.site_id, ItemRow.priority, ItemRow.due, ItemRow.reason,
            ItemRow.merged,
        )
        .where(ItemRow.site_id.in_(bindparam("ids", expanding=True)), ItemRow.status == "pending")
        .order_by(ItemRow.site_id, ItemRow.id)
    )  # fmt: skip
    return _locked(stmt, dialect)


@cache
def upsert_slots(dialect: str, keep_earlier: bool) -> Any:
    """Insert or update site slots; `keep_earlier` keeps a slot already set (intake), else overwrites."""
    table = SiteStateRow.__table__
    ins = (pg_insert if dialect == PG else sqlite_insert)(table)
    at = (
        func.coalesce(table.c.next_digest_at, ins.excluded.next_digest_at)
        if keep_earlier
        else ins.excluded.next_digest_at
    )
    return ins.on_conflict_do_update(
        index_elements=["site_id"], set_={"next_digest_at": at, "slot_note": ins.excluded.slot_note}
    )
