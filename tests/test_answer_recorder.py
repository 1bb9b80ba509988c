"""Answers stored in groups (knowledge/recorder.py): every answer is committed with its audit entry before
its asker returns, each asker gets its own ids, the audit chain stays whole, and one answer that cannot
be stored fails only its own ask."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import audit
from core.db import make_engine, make_session_factory
from core.models import AuditRow
from knowledge.models import AnswerRow, QuestionRow
from knowledge.recorder import AnswerRecord, AnswerRecorder
from knowledge.types import Answer
from siteline.database import migrate

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'siteline.db'}")
    migrate(engine)
    yield make_session_factory(engine)
    engine.dispose()


def _record(n: int, conversation_ref: dict | None = None) -> AnswerRecord:
    answer = Answer(answer=f"answer {n}", abstained=n % 3 == 0, latency_ms=n)
    return AnswerRecord(f"question {n}", answer, ["S1"], f"asker-{n}", "api", NOW, False, conversation_ref)


def test_answers_from_many_askers_at_once_are_each_stored_with_their_own_ids(
    factory: sessionmaker[Session],
) -> None:
    recorder = AnswerRecorder(factory)
    ids: dict[int, tuple[int, int]] = {}
    start = threading.Barrier(24)

    def ask(n: int) -> None:
        start.wait()
        ids[n] = recorder.record(_record(n))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(ids) == 24 and len({q for q, _ in ids.values()}) == 24
    with factory() as s:
        for n, (qid, aid) in ids.items():  # each asker's ids point at its own question and answer
            assert s.get(QuestionRow, qid).text == f"question {n}"
            row = s.get(AnswerRow, aid)
            assert (row.question_id, row.text, row.abstained) == (qid, f"answer {n}", n % 3 == 0)
        entries = list(s.execute(select(AuditRow).where(AuditRow.action == "knowledge.answer")).scalars())
        assert sorted(e.subject for e in entries) == sorted(f"question:{q}" for q, _ in ids.values())
        assert {e.detail["answer_id"] for e in entries} == {a for _, a in ids.values()}
        assert audit.verify(s).ok


def test_an_answer_that_cannot_be_stored_fails_alone(factory: sessionmaker[Session]) -> None:
    recorder = AnswerRecorder(factory)
    results: dict[int, object] = {}
    start = threading.Barrier(6)

    def ask(n: int) -> None:
        start.wait()
        bad = {"not json": object()} if n == 3 else None  # a reference JSON cannot hold
        try:
            results[n] = recorder.record(_record(n, bad))
        except RuntimeError as exc:
            results[n] = exc

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert isinstance(results[3], RuntimeError) and "could not be stored" in str(results[3])
    assert all(isinstance(results[n], tuple) for n in (0, 1, 2, 4, 5))
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(QuestionRow)) == 5
        assert audit.verify(s).ok


def test_the_writer_ends_when_idle_and_starts_again(factory: sessionmaker[Session], monkeypatch) -> None:
    from knowledge import recorder as module

    monkeypatch.setattr(module, "IDLE_SECONDS", 0.05)
    recorder = AnswerRecorder(factory)
    first = recorder.record(_record(1))
    threading.Event().wait(0.3)
    assert recorder.writers == 0  # nothing to store: no thread kept
    second = recorder.record(_record(2))
    assert second[0] > first[0]
