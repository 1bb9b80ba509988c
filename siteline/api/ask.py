"""`POST /api/ask`: the `ask --json` answer for a question on one study."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from siteline import phi
from siteline.api.auth import require_token

router = APIRouter()


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
        raise HTTPException(404, f"no documents have been ingested for study {body.study!r}")
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
