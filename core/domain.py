"""Domain types shared by every engine and surface, validated at the edge with pydantic."""

from __future__ import annotations

from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["site_staff", "cra", "cra_lead", "srm", "study_manager", "medical_monitor", "clinops_head"]
Tier = Literal["strategic", "preferred", "standard"]
KnowledgeKind = Literal["protocol", "sop", "manual", "other", "clarification"]

SITE_SCOPED_ROLES = ("site_staff", "cra", "srm")
# Who works for the sponsor or its CRO (acknowledges escalations, sends updates), and who works at a site.
SPONSOR_ROLES = ("cra", "cra_lead", "srm", "study_manager", "medical_monitor", "clinops_head")
SITE_ROLES = ("site_staff",)
STUDY_SCOPED_ROLES = ("cra_lead", "study_manager", "medical_monitor")


def _check_tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


def _check_hhmm(value: str) -> str:
    try:
        time.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a HH:MM time") from exc
    return value


class Site(BaseModel):
    model_config = ConfigDict(extra="ignore")

    site_id: str = Field(min_length=1)
    name: str = ""
    tz: str
    tier: Tier = "standard"
    studies: list[str] = Field(default_factory=list)
    digest_times: list[str] = Field(default_factory=lambda: ["09:00"])
    quiet_hours: list[str] | None = None
    slack_channel_id: str | None = None
    teams_conversation_id: str | None = None
    teams_service_url: str | None = None

    _tz = field_validator("tz")(_check_tz)

    @field_validator("digest_times")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        return [_check_hhmm(v) for v in value]

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if len(value) != 2:
            raise ValueError("quiet_hours must be [start, end]")
        return [_check_hhmm(v) for v in value]


class Person(BaseModel):
    model_config = ConfigDict(extra="ignore")

    person_id: str = Field(min_length=1)
    name: str | None = None
    role: Role
    tz: str = "UTC"
    sites: list[str] = Field(default_factory=list)
    studies: list[str] = Field(default_factory=list)
    email: str | None = None
    slack_user_id: str | None = None
    teams_user_id: str | None = None

    _tz = field_validator("tz")(_check_tz)

    def covers(self, *, site: str, study: str) -> bool:
        """Whether this person is a recipient for an issue of `site` on `study` (the contract's rule)."""
        if self.role in SITE_SCOPED_ROLES:
            return site in self.sites and study in self.studies
        if self.role in STUDY_SCOPED_ROLES:
            return study in self.studies
        return True
