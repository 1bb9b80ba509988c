"""`POST /api/ask`: the `ask --json` answer for a question on one study."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from siteline import phi
from siteline.api.auth import require_token

router = APIRouter()
STUDY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # named back to the caller only when it looks like one


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    study: str = Field(min_length=1, max_length=64)


@router.post("/ask")
def ask(body: AskBody, request: Request, caller: str = Depends(require_token)) -> dict[str, object]:
    container = request.app.state.container
    if not body.question.strip():
        raise HTTPException(422, [{"loc": ["body", "question"], "msg": "the question is blank", "type": "value_error"}])
    knowledge = container.knowledge
    if not knowledge.has_documents([body.study]):
        named = f"study {body.study!r}" if STUDY_ID.fullmatch(body.study) else "that study"
        raise HTTPException(404, f"no documents have been ingested for {named}")
    redaction = phi.redact(body.question)  # before the engine stores, logs or embeds it
    answer = knowledge.ask(
        redaction.text.strip(),
        studies=[body.study],
        asker=caller,
        surface="api",
        now=container.clock.now(),
        phi_redacted=redaction.changed,
    )
    return answer.to_json()
