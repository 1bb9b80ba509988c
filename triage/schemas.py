"""The `update` shape of the replay contract, validated at the edge (replay, HTTP, CLI, Slack).

The same model validates a scenario line (without `at`/`type`) and the body of
`POST /api/updates`, so a malformed update is refused the same way everywhere, naming the field.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.strings import refuse_nul

Priority = Literal["urgent", "action", "fyi"]


class UpdateIn(BaseModel):
    """An outbound sponsor/CRO message to sites (`sites` is a list of ids or "all" on the study)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=128, pattern=r"^[^\s]+$")
    sender: str = Field(alias="from", min_length=1, max_length=64)
    org: Literal["sponsor", "cro"]
    study: str = Field(min_length=1, max_length=64)
    sites: list[str] | Literal["all"]
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(default="", max_length=20000)
    declared_priority: Literal["urgent", "normal", "low"] | None = None
    due: date | None = None

    _text = field_validator("*")(refuse_nul)

    @field_validator("sites")
    @classmethod
    def _sites(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, list):
            if not value:
                raise ValueError('give at least one site id, or "all"')
            if any(not isinstance(s, str) or not s.strip() for s in value):
                raise ValueError("site ids must be non-empty strings")
            return list(dict.fromkeys(s.strip() for s in value))
        return value
