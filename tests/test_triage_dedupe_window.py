"""The dedupe's read of the window: done before the write lock, completed under it, same result as one read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from core.db import transaction
from tests.triage_world import World
from triage.dedupe import find_matches
from triage.fingerprint import fingerprint

RECALL = {"subject": "Lot L1 quarantine", "body": "Quarantine lot L1 now, every kit of it."}


def test_the_window_is_read_and_scored_before_the_write_lock(factory) -> None:
    """On SQLite every writer of the file waits while an intake holds the lock: reading and scoring the
    study's recent updates (hundreds on a busy study) must not happen while it is held."""
    engine = factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the one-writer lock is SQLite's")
    w = World(factory)
    for n in range(20):
        w.send(f"2026-03-02T09:{n:02d}:00Z", deliver_before=False, subject=f"Newsletter {n}", body=f"Issue {n}.")
    reads: list[bool] = []  # for each read of the window's texts: was the write lock held?

    def watch(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "core_text" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(conn.connection.dbapi_connection.in_transaction)

    event.listen(engine, "before_cursor_execute", watch)
    try:
        w.send("2026-03-02T10:00:00Z", deliver_before=False, **RECALL)
    finally:
        event.remove(engine, "before_cursor_execute", watch)
    assert reads == [False]  # one read of the texts, before the lock; under it only ids (nothing new since)


def test_an_update_stored_between_the_two_reads_is_still_found(factory) -> None:
    """Another intake may store a repeat after the read before the lock: the read under it finds it, and
    the matches are those of one full read made then, in the same order."""
    w = World(factory)
    w.send("2026-03-02T09:00:00Z", deliver_before=False, id="a1", **RECALL)
    fp = fingerprint(RECALL["subject"], RECALL["body"], w.engine.policy.dedupe.state_words, "ALPHA")
    now = w.clock.now()
    scan = {"update_id": "new", "study": "ALPHA", "fp": fp, "due": None, "now": now, "policy": w.engine.policy.dedupe}
    with transaction(factory) as s:
        before_lock = find_matches(s, **scan)
    assert [m.update_id for m in before_lock.best_first()] == ["a1"]
    w.send("2026-03-02T09:00:00Z", deliver_before=False, id="a2", **RECALL)  # stored in between
    with transaction(factory) as s:
        under_lock = find_matches(s, **scan, earlier=before_lock).best_first()
        one_read = find_matches(s, **scan).best_first()
    assert under_lock == one_read
    assert [m.update_id for m in under_lock] == ["a1", "a2"]
