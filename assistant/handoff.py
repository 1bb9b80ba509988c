"""Ask my CRA: a bot answer becomes a tracked open question for the site's CRA(s), and the CRA's
answer goes back into the thread it came from.

Every step is a row first (open question, outbox deliveries, timer, audit) in the caller's
transaction; the Ticker sends. Functions take the session and `now` and never read the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.models import ChatAnswerRow, OpenQuestionRow
from assistant.types import OpenQuestion, Outcome
from core import audit, outbox
from core.db import hold_write_lock
from core.directory import Directory
from core.domain import Person
from knowledge.models import AnswerRow, ChunkRow, QuestionRow
from scheduler import timers

OPEN_QUESTION_TIMER = "assistant.open_question_escalate"
ANSWERING_ROLES = ("cra", "cra_lead")
LIVE = ("open", "escalated")


def display(person: Person) -> str:
    return person.name or person.person_id


def _cited_study(session: Session, citations: list[dict[str, Any]]) -> str | None:
    """The study of the best citation: it says which study's CRA knows the answer."""
    for c in citations:
        chunk_id = c.get("chunk_id")
        if chunk_id:
            study = session.execute(select(ChunkRow.study).where(ChunkRow.id == chunk_id)).scalar()
            if study:
                return study
    return None


@dataclass(frozen=True)
class Asked:
    """An answer as a hand-off needs it: where it was given (ours) and what was asked and answered
    (the knowledge engine's rows)."""

    ref: ChatAnswerRow
    question: str  # redacted before it was stored
    answer: str
    abstained: bool
    citations: list[dict[str, Any]]

    @classmethod
    def load(cls, session: Session, ref: ChatAnswerRow) -> Asked | None:
        answer = session.get(AnswerRow, ref.answer_id)
        question = session.get(QuestionRow, answer.question_id) if answer else None
        if answer is None or question is None:
            return None
        return cls(ref, question.text, answer.text, answer.abstained, list(answer.citations or []))


def _route(session: Session, asked: Asked) -> tuple[str, list[Person]]:
    """Pick the study and its CRAs for a hand-off: the cited study first, then the answer's scope."""
    ref = asked.ref
    assert ref.site_id is not None
    candidates = [s for s in [_cited_study(session, asked.citations), *ref.studies] if s and s in ref.studies]
    directory = Directory(session)
    for study in dict.fromkeys(candidates):
        cras = directory.recipients("cra", site=ref.site_id, study=study)
        if cras:
            return study, cras
    return (candidates[0] if candidates else ""), []


def _names(session: Session, person_ids: list[str]) -> str:
    directory = Directory(session)
    return ", ".join(display(p) if (p := directory.person(i)) else i for i in person_ids)


def open_question(session: Session, *, ref: ChatAnswerRow, by: Person, now: datetime, wait: timedelta) -> Outcome:
    """Create the open question for an answer (once) and queue a DM to each CRA of its site and study."""
    existing = session.execute(select(OpenQuestionRow).where(OpenQuestionRow.answer_id == ref.answer_id)).scalar()
    if existing is not None:
        names = _names(session, existing.recipients)
        return Outcome(True, f"This question is already with {names}; their answer will appear here.", existing.id)
    asked = Asked.load(session, ref)
    if asked is None:
        return Outcome(False, "I can't find that answer any more; please ask the question again.")
    if ref.site_id is None:
        return Outcome(
            False,
            "I can't tell which site this question belongs to, so I don't know your CRA. "
            "Please ask it in your site's channel, then press Ask my CRA.",
        )
    study, cras = _route(session, asked)
    if not cras:
        return Outcome(
            False,
            f"No CRA is listed for your site on {study or 'this study'} in the directory. "
            "Please contact your study team directly, or ask your Siteline admin to add your CRA.",
        )
    row = OpenQuestionRow(
        answer_id=ref.answer_id,
        created_at=now,
        site_id=ref.site_id,
        study=study,
        asked_by=ref.asker,
        handed_off_by=by.person_id,
        question=asked.question,
        bot_answer=asked.answer,
        citations=[{k: v for k, v in c.items() if k != "chunk_id"} for c in asked.citations],
        recipients=[p.person_id for p in cras],
        platform=ref.platform,
        conversation_id=ref.conversation_id,
        thread_ref=ref.thread_ref,
        is_direct=ref.is_direct,
        status="open",
    )
    session.add(row)
    session.flush()
    keys = _queue_for_cras(session, row, asked.abstained, cras, now=now)
    timers.schedule(
        session,
        key=f"open_question:{row.id}",
        kind=OPEN_QUESTION_TIMER,
        due_at=now + wait,
        payload={"question_id": row.id},
    )
    audit.record(
        session,
        now=now,
        actor=by.person_id,
        action="open_question.created",
        subject=f"question:{row.id}",
        detail={"answer_id": ref.answer_id, "site": ref.site_id, "study": study, "recipients": row.recipients},
    )
    names = ", ".join(display(p) for p in cras)
    return Outcome(True, f"I've sent your question to {names} (your CRA). Their answer will appear here.", row.id, keys)


def _queue_for_cras(
    session: Session, row: OpenQuestionRow, abstained: bool, cras: list[Person], *, now: datetime
) -> tuple[str, ...]:
    """One outbox DM per CRA: the question, the bot's attempt and its sources (the platform adds a button)."""
    directory = Directory(session)
    asker, site = directory.person(row.asked_by), directory.site(row.site_id)
    payload = {
        "question_id": row.id,
        "site": row.site_id,
        "site_name": site.name if site else row.site_id,
        "study": row.study,
        "asked_by": row.asked_by,
        "asked_by_name": display(asker) if asker else row.asked_by,
        "question": row.question,
        "bot_answer": row.bot_answer,
        "abstained": abstained,
        "citations": row.citations,
    }
    keys = tuple(f"open_question:{row.id}:{cra.person_id}" for cra in cras)
    for key, cra in zip(keys, cras, strict=True):
        outbox.enqueue(
            session,
            dedupe_key=key,
            now=now,
            due_at=now,
            channel="person",
            recipient=cra.person_id,
            kind="open_question",
            payload=payload,
        )
    return keys


def may_answer(person: Person, row: OpenQuestionRow) -> bool:
    return person.person_id in row.recipients or (
        person.role in ANSWERING_ROLES and person.covers(site=row.site_id, study=row.study)
    )


def answer(session: Session, *, question_id: int, by: Person, text: str, redacted: bool, now: datetime) -> Outcome:
    """Record a CRA's (already redacted) answer and queue it into the original conversation's thread."""
    hold_write_lock(session)  # SQLite: the row lock below is PostgreSQL's only
    row = session.get(OpenQuestionRow, question_id, with_for_update=True)
    if row is None:
        return Outcome(False, "I can't find that question any more.")
    if not may_answer(by, row):
        return Outcome(False, "Only the CRA(s) of this site and study can answer this question.")
    if row.status == "answered":
        who = Directory(session).person(row.answered_by or "")
        return Outcome(False, f"{display(who) if who else row.answered_by} already answered this question.", row.id)
    if not text.strip():
        return Outcome(False, "Please write an answer before sending.")
    row.status, row.answered_at, row.answered_by, row.answer_text = "answered", now, by.person_id, text
    # Back into the thread it came from; a question without one (a private slash-command answer) goes to a DM.
    in_thread = row.thread_ref is not None
    conversation = (
        {"platform": row.platform, "conversation_id": row.conversation_id, "thread_ref": row.thread_ref}
        if in_thread
        else None
    )
    channel, recipient = ("person", row.asked_by) if row.is_direct or not in_thread else ("site", row.site_id)
    outbox.enqueue(
        session,
        dedupe_key=f"cra_answer:{row.id}",
        now=now,
        due_at=now,
        channel=channel,
        recipient=recipient,
        kind="cra_answer",
        payload={
            "question_id": row.id,
            "question": row.question,
            "answer": text,
            "cra": by.person_id,
            "cra_name": display(by),
            "site": row.site_id,
            "study": row.study,
            "asked_by": row.asked_by,
            "conversation": conversation,
        },
    )
    timers.cancel(session, key=f"open_question:{row.id}")
    audit.record(
        session,
        now=now,
        actor=by.person_id,
        action="open_question.answered",
        subject=f"question:{row.id}",
        detail={"site": row.site_id, "study": row.study, "phi_redacted": redacted, "escalation": row.escalation_id},
    )
    return Outcome(True, "Thanks, your answer is on its way to the asker.", row.id, (f"cra_answer:{row.id}",))


def to_view(row: OpenQuestionRow) -> OpenQuestion:
    return OpenQuestion(
        id=row.id,
        site_id=row.site_id,
        study=row.study,
        asked_by=row.asked_by,
        question=row.question,
        bot_answer=row.bot_answer,
        status=row.status,
        created_at=row.created_at,
        recipients=tuple(row.recipients),
        answer_text=row.answer_text,
        answered_by=row.answered_by,
    )


def listing(session: Session, *, person: Person, limit: int = 50) -> list[OpenQuestion]:
    """Unanswered questions this person should see: those waiting for them (CRA) or asked by them."""
    rows = session.execute(
        select(OpenQuestionRow).where(OpenQuestionRow.status.in_(LIVE)).order_by(OpenQuestionRow.created_at)
    ).scalars()
    mine = [r for r in rows if r.asked_by == person.person_id or may_answer(person, r)]
    return [to_view(r) for r in mine[:limit]]
