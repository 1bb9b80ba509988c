"""The input lines the escalation engine owns (replay contract; the HTTP API takes the same bodies).

Each model validates one line without `at`/`type`; a pydantic error names the field, which the
replay turns into `line N (type): field: message` and the API into a 422.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.strings import refuse_nul
from escalation.policy import Category, RoutingPolicy, Severity

ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


class PolicyLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    routing: RoutingPolicy


class EscalationLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=64, pattern=ID)
    site: str = Field(min_length=1, max_length=64)
    study: str = Field(min_length=1, max_length=64)
    raised_by: str = Field(min_length=1, max_length=64)
    summary: str = Field(min_length=1, max_length=8000)
    category: Category | None = None
    severity: Severity | None = None

    _text = field_validator("*")(refuse_nul)


class AckLine(BaseModel):
    model_config = ConfigDict(extra="ignore")

    escalation: str = Field(min_length=1, max_length=64)
    by: str = Field(min_length=1, max_length=64)

    _text = field_validator("*")(refuse_nul)


class ResolveLine(AckLine):
    pass
