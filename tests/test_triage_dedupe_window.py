"""The dedupe's read of the window: done before the write lock, completed under it, same result as one read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from core.db import transaction
from tests.triage_world import World
from triage import queries
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


def test_only_updates_holding_the_new_keys_are_read_with_the_same_matches(factory, monkeypatch) -> None:
    """A repeat brings no key the earlier message lacks: the window's other updates (most of a busy
    study's) are not read at all, and the matches are those of reading every one."""
    w = World(factory)
    for n in range(30):
        lot = f"KB-{n:02d}-0917"
        w.send(f"2026-03-02T09:{n:02d}:00Z", deliver_before=False, id=f"lot{n}",
               subject=f"Lot {lot} quarantine", body=f"Quarantine lot {lot} now, every kit.")  # fmt: skip
    repeat = {"subject": "Reminder: Lot KB-07-0917 quarantine", "body": "Quarantine lot KB-07-0917 now, every kit."}
    fp = fingerprint(repeat["subject"], repeat["body"], w.engine.policy.dedupe.state_words, "ALPHA")
    scan = {"update_id": "new", "study": "ALPHA", "fp": fp, "due": None, "now": w.clock.now(),
            "policy": w.engine.policy.dedupe}  # fmt: skip
    with transaction(factory) as s:
        filtered = find_matches(s, **scan)
        monkeypatch.setattr(queries, "HELD_KEYS", 0)  # no key checked in SQL: every update of the window is read
        everything = find_matches(s, **scan)
    assert len(everything.seen) == 30 and len(filtered.seen) == 1
    assert [m.update_id for m in filtered.best_first()] == ["lot7"] == [m.update_id for m in everything.best_first()]


def test_key_patterns_match_one_whole_stored_key_and_leave_unusual_keys_to_python() -> None:
    patterns = queries.key_patterns({"n:12", "code:ab_1%x", "d:2026-03-02", "flip:resumed", "code:größe", 'q"t'})
    assert list(patterns.values()) == ['%"d:2026-03-02"%', '%"code:ab/_1/%x"%', '%"n:12"%']  # flip words last
    assert queries.key_patterns(set()) == {}
