"""Stores answered questions in groups: one transaction for the answers that arrive together.

Every answer is stored (question, answer, citations) with its audit entry before the asker sees it, so
nothing a site was told is missing from the trail. The audit chain has one appender at a time (its
lock, then the checkpoint row), and on SQLite the whole file has one writer at a time: under many
concurrent asks each answer took that lock for a transaction of its own (7 statements), and the queue
for it was the tail of an ask's latency. Here the asking threads hand their answer to one writer
thread per process and wait; the writer stores everything waiting in one transaction (the audit lock
taken once, the checkpoint moved once) and wakes them. One asker alone is stored at once, as before.
If a group fails, each answer in it is tried alone, so one bad record fails only its own ask.

Up to `WRITERS` writer threads store groups side by side: a group's own rows go in while the group
before it holds the audit lock, so under load an answer waits for that lock and its commit, not for
a whole group before it to finish (measured: one writer per process was busy 80-90 % of the time in
the cluster bench, and the asks' main wait).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from core import audit
from core.db import transaction
from knowledge.models import AnswerRow, QuestionRow
from knowledge.types import Answer

log = logging.getLogger("siteline.knowledge")

GROUP = 64  # answers stored in one transaction at most
WRITERS = 3  # writer threads per process at most (started as answers wait, ended when idle)
IDLE_SECONDS = 10.0
WAIT_SECONDS = 120.0  # an asker gives up waiting for the store after this (the database is stuck)


@dataclass
class AnswerRecord:
    """What is stored for one answered question (the question already PHI-redacted)."""

    question: str
    answer: Answer
    studies: Sequence[str]
    asker: str
    surface: str
    now: datetime
    phi_redacted: bool
    conversation_ref: dict | None
    ids: tuple[int, int] | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


class AnswerRecorder:
    """The process's writer of answered questions (`record` blocks until the answer is committed)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._queue: queue.SimpleQueue[AnswerRecord] = queue.SimpleQueue()
        self._writers = 0  # writer threads running
        self._idle = 0  # of them, waiting for an answer to store
        self._start_lock = threading.Lock()  # guards both counts

    @property
    def writers(self) -> int:
        return self._writers

    def record(self, item: AnswerRecord) -> tuple[int, int]:
        """Store the answer with its audit entry; returns (question id, answer id) once committed."""
        self._queue.put(item)
        self._ensure_writer()
        if not item.done.wait(WAIT_SECONDS):
            raise TimeoutError("the answer could not be stored in time (is the database reachable?)")
        if item.error is not None:
            raise item.error
        assert item.ids is not None
        return item.ids

    def _ensure_writer(self) -> None:
        """A new writer when none is idle to take the answer just queued (up to `WRITERS`)."""
        with self._start_lock:
            if self._idle == 0 and self._writers < WRITERS:
                self._writers += 1
                threading.Thread(target=self._run, name="answer-recorder", daemon=True).start()

    def _run(self) -> None:
        """Store what waits, group by group; after `IDLE_SECONDS` with nothing to store, end (the next
        answer starts a writer again), so an idle process keeps no thread for it."""
        while True:
            with self._start_lock:
                self._idle += 1
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._start_lock:  # an answer queued from here on starts a new writer
                    self._idle -= 1
                    if self._queue.empty():
                        self._writers -= 1
                        return
                continue
            with self._start_lock:
                self._idle -= 1
            group = [first]
            while len(group) < GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._store_group(group)

    def _store_group(self, group: list[AnswerRecord]) -> None:
        try:
            _store(self._factory, group)
        except Exception:
            if len(group) == 1:
                group[0].error = _failure(group[0])
            else:  # find the one that failed: the others are stored
                for item in group:
                    try:
                        _store(self._factory, [item])
                    except Exception:
                        item.error = _failure(item)
        finally:
            for item in group:
                item.done.set()


def _failure(item: AnswerRecord) -> BaseException:
    log.exception("storing an answer failed (surface %s)", item.surface)
    return RuntimeError("the answer could not be stored")


def _store(factory: sessionmaker[Session], group: list[AnswerRecord]) -> None:
    with transaction(factory) as session:
        questions = [
            QuestionRow(
                at=r.now,
                asker=r.asker,
                surface=r.surface,
                studies=sorted(set(r.studies)),
                text=r.question,
                phi_redacted=r.phi_redacted,
                conversation_ref=r.conversation_ref,
            )
            for r in group
        ]
        session.add_all(questions)
        session.flush()
        answers = [
            AnswerRow(
                question_id=q.id,
                at=r.now,
                text=r.answer.answer,
                abstained=r.answer.abstained,
                mode=r.answer.mode,
                citations=[{**c.to_json(), "chunk_id": c.chunk_id} for c in r.answer.citations],
                latency_ms=r.answer.latency_ms,
            )
            for q, r in zip(questions, group, strict=True)
        ]
        session.add_all(answers)
        session.flush()
        audit.record_many(session, [_entry(q, a, r) for q, a, r in zip(questions, answers, group, strict=True)])
    for q, a, r in zip(questions, answers, group, strict=True):
        r.ids = (q.id, a.id)


def _entry(q: QuestionRow, a: AnswerRow, r: AnswerRecord) -> audit.Entry:
    return audit.Entry(
        now=r.now,
        actor=r.asker,
        action="knowledge.answer",
        subject=f"question:{q.id}",
        detail={
            "surface": r.surface,
            "studies": sorted(set(r.studies)),
            "answer_id": a.id,
            "abstained": r.answer.abstained,
            "mode": r.answer.mode,
            "cited": sorted({f"{c.doc}@{c.version}" for c in r.answer.citations}),
        },
    )
