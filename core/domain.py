"""Domain types shared by every engine and surface, validated at the edge with pydantic."""

from __future__ import annotations

import re
from datetime import time
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Role = Literal["site_staff", "cra", "cra_lead", "srm", "study_manager", "medical_monitor", "clinops_head"]
Tier = Literal["strategic", "preferred", "standard"]
KnowledgeKind = Literal["protocol", "sop", "manual", "other", "clarification"]

SITE_SCOPED_ROLES = ("site_staff", "cra", "srm")
# Who works for the sponsor or its CRO (acknowledges escalations, sends updates), and who works at a site.
SPONSOR_ROLES = ("cra", "cra_lead", "srm", "study_manager", "medical_monitor", "clinops_head")
SITE_ROLES = ("site_staff",)
STUDY_SCOPED_ROLES = ("cra_lead", "study_manager", "medical_monitor")


class PreferencesError(ValueError):
    """Digest times or quiet hours that cannot be used; `field` names which, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def in_quiet_hours(local: time, quiet_hours: list[str] | None) -> bool:
    """Whether a wall-clock time is inside [start, end) of quiet hours (which may wrap midnight)."""
    if not quiet_hours:
        return False
    start, end = (time.fromisoformat(x) for x in quiet_hours)
    if start == end:
        return False
    if start > end:
        return local >= start or local < end
    return start <= local < end


def _hhmm(value: str, field: str) -> str:
    try:
        return time.fromisoformat(value.strip()).strftime("%H:%M")
    except (ValueError, AttributeError):
        raise PreferencesError(field, f"{value!r} is not a HH:MM time") from None


def validate_preferences(digest_times: list[str], quiet_hours: list[str] | None) -> tuple[list[str], list[str] | None]:
    """A site's digest times (sorted, unique) and quiet hours, or PreferencesError: the one rule for the
    directory, the API, the CLI and chat. A site must keep a digest time outside its quiet hours."""
    times = sorted({_hhmm(t, "digest_times") for t in digest_times})
    if not times:
        raise PreferencesError("digest_times", "give at least one HH:MM time")
    quiet = None
    if quiet_hours:
        if len(quiet_hours) != 2:
            raise PreferencesError("quiet_hours", "give [start, end], e.g. ['19:00', '07:00']")
        quiet = [_hhmm(quiet_hours[0], "quiet_hours"), _hhmm(quiet_hours[1], "quiet_hours")]
    if all(in_quiet_hours(time.fromisoformat(t), quiet) for t in times):
        raise PreferencesError(
            "digest_times",
            f"every time ({', '.join(times)}) falls in quiet hours {quiet[0]}-{quiet[1]}"  # type: ignore[index]
            "; the site would never get a digest",
        )
    return times, quiet


def _check_tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


PLATFORM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
EXTERNAL_ID_MAX = 300  # the longest chat id any platform hands out fits (Teams' "29:…" ids run long)


class ChatIdentities(BaseModel):
    """Who this is on each chat platform, as data: `chat` maps a platform name to the platform's own id
    for this person or site, so a new channel needs no new field. The directory file's named fields
    (`slack_user_id`, `teams_conversation_id`, … in `LEGACY_FIELDS`) are the outside contract and fold in
    here; `chat_detail` holds what one platform needs beside the id (a Teams channel's service URL)."""

    LEGACY_FIELDS: ClassVar[dict[str, str]] = {}  # contract field -> platform

    chat: dict[str, str] = Field(default_factory=dict)
    chat_detail: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _fold_named_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # not a mapping (a model instance): nothing to fold
        data = dict(data)
        chat = data.get("chat")
        if chat is None:
            chat = {}
        if not isinstance(chat, dict):
            return data  # let field validation name the wrong type
        chat = dict(chat)
        for field, platform in cls.LEGACY_FIELDS.items():
            value = data.pop(field, None)
            if value in (None, ""):
                continue
            if not isinstance(value, str):
                raise ValueError(f"{field} must be a string, got {type(value).__name__}")
            if chat.get(platform) not in (None, "", value):
                raise ValueError(f"{field} {value} and chat.{platform} {chat[platform]} disagree; give one")
            chat[platform] = value
        data["chat"] = {p: v for p, v in chat.items() if v not in (None, "")}  # empty means no identity
        cls._fold_detail(data)
        return data

    @classmethod
    def _fold_detail(cls, data: dict[str, Any]) -> None:
        """Named detail fields of the file format (none for people)."""

    @field_validator("chat")
    @classmethod
    def _chat(cls, value: dict[str, str]) -> dict[str, str]:
        for platform, external_id in value.items():
            if not PLATFORM_NAME.match(platform):
                raise ValueError(f"chat platform {platform!r} must be a lowercase name (a-z, 0-9, _)")
            if platform == "email":
                raise ValueError("an e-mail address is the person's email field, not a chat identity")
            if len(external_id) > EXTERNAL_ID_MAX:
                raise ValueError(f"chat.{platform} is longer than {EXTERNAL_ID_MAX} characters")
        return value

    @model_validator(mode="after")
    def _detail_has_an_identity(self) -> ChatIdentities:
        stray = sorted(set(self.chat_detail) - set(self.chat))
        if stray:
            raise ValueError(f"chat_detail for {', '.join(stray)} without an identity there in chat")
        return self


class Site(ChatIdentities):
    model_config = ConfigDict(extra="ignore")

    LEGACY_FIELDS: ClassVar[dict[str, str]] = {"slack_channel_id": "slack", "teams_conversation_id": "teams"}

    site_id: str = Field(min_length=1)
    name: str = ""
    tz: str
    tier: Tier = "standard"
    studies: list[str] = Field(default_factory=list)
    digest_times: list[str] = Field(default_factory=lambda: ["09:00"])
    quiet_hours: list[str] | None = None

    _tz = field_validator("tz")(_check_tz)

    @model_validator(mode="after")
    def _preferences(self) -> Site:
        try:
            validate_preferences(self.digest_times, self.quiet_hours)
        except PreferencesError as exc:
            raise ValueError(str(exc)) from None
        return self

    @classmethod
    def _fold_detail(cls, data: dict[str, Any]) -> None:
        # The file's teams_service_url is detail of the site's Teams identity (useless without one).
        url = data.pop("teams_service_url", None)
        detail = data.get("chat_detail") or {}
        if url and "teams" in data["chat"] and isinstance(detail, dict) and isinstance(detail.get("teams", {}), dict):
            data["chat_detail"] = {**detail, "teams": {**detail.get("teams", {}), "service_url": url}}


class Person(ChatIdentities):
    model_config = ConfigDict(extra="ignore")

    LEGACY_FIELDS: ClassVar[dict[str, str]] = {"slack_user_id": "slack", "teams_user_id": "teams"}

    person_id: str = Field(min_length=1)
    name: str | None = None
    role: Role
    tz: str = "UTC"
    sites: list[str] = Field(default_factory=list)
    studies: list[str] = Field(default_factory=list)
    email: str | None = None  # a plain field, not a chat identity (the e-mail channel reads it)

    _tz = field_validator("tz")(_check_tz)

    def covers(self, *, site: str, study: str) -> bool:
        """Whether this person is a recipient for an issue of `site` on `study` (the contract's rule)."""
        if self.role in SITE_SCOPED_ROLES:
            return site in self.sites and study in self.studies
        if self.role in STUDY_SCOPED_ROLES:
            return study in self.studies
        return True
