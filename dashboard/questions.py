"""Questions as the dashboard sees them: each with its site, its answer and the feedback on it.

A question's site is where it was asked (the chat answer's site); a question asked in a direct
message counts for the asker's site when they have exactly one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.models import ChatAnswerRow
from core.models import PersonRow
from knowledge.models import AnswerRow, FeedbackRow, QuestionRow


@dataclass
class AskedQuestion:
    question_id: int
    at: datetime
    text: str  # stored already PHI-redacted
    studies: list[str]
    site_id: str | None
    answer_id: int | None
    abstained: bool
    citations: list[dict[str, Any]]
    feedback: set[str] = field(default_factory=set)  # helpful | not_helpful | ask_cra

    @property
    def unclear(self) -> bool:
        """The documents did not settle it: abstained, or the asker said the answer did not help."""
        return self.abstained or "not_helpful" in self.feedback or "ask_cra" in self.feedback


def load(session: Session, *, since: datetime, site_ids: set[str] | None = None) -> list[AskedQuestion]:
    """Questions since `since` with their site (only those of `site_ids` when given)."""
    rows = session.execute(
        select(QuestionRow, AnswerRow.id, AnswerRow.abstained, AnswerRow.citations, ChatAnswerRow.site_id)
        .outerjoin(AnswerRow, AnswerRow.question_id == QuestionRow.id)
        .outerjoin(ChatAnswerRow, ChatAnswerRow.answer_id == AnswerRow.id)
        .where(QuestionRow.at >= since)
        .order_by(QuestionRow.at, QuestionRow.id)
    ).all()
    single_site = {
        pid: sites[0]
        for pid, sites in session.execute(select(PersonRow.person_id, PersonRow.sites))
        if sites and len(sites) == 1
    }
    out: list[AskedQuestion] = []
    for q, answer_id, abstained, citations, site_id in rows:
        site = site_id or single_site.get(q.asker)
        if site_ids is not None and site not in site_ids:
            continue
        out.append(
            AskedQuestion(
                q.id, q.at, q.text, list(q.studies or []), site, answer_id, bool(abstained), list(citations or [])
            )
        )
    by_answer = {a.answer_id: a for a in out if a.answer_id is not None}
    if by_answer:
        for answer_id, value in session.execute(
            select(FeedbackRow.answer_id, FeedbackRow.value).where(FeedbackRow.answer_id.in_(list(by_answer)))
        ):
            by_answer[answer_id].feedback.add(value)
    return out
