"""`POST /api/ask`: the `ask --json` answer for a question on one study."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from siteline.api.auth import require_token

router = APIRouter()


class AskBody(BaseModel):
    question: str = Field(min_length=1, max_length=4000)
    study: str = Field(min_length=1, max_length=64)


@router.post("/ask")
def ask(body: AskBody, request: Request, caller: str = Depends(require_token)) -> dict[str, object]:
    container = request.app.state.container
    answer = container.knowledge.ask(body.question, studies=[body.study], asker=caller, surface="api")
    return answer.to_json()
