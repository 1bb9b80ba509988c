"""The routing policy: which roles see an issue, in what order, how long each has to acknowledge.

The shape is the replay contract's `policy.routing` object (also the YAML of
`default_policy.yaml` and of `SITELINE_ESCALATION_POLICY_PATH`). It is validated once, at the
edge, so a bad policy is refused with the field named and never half-applied.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.domain import Role, Tier

Category = Literal[
    "safety",
    "ip_supply",
    "contract_budget",
    "ethics_regulatory",
    "data_queries",
    "technology_access",
    "staffing",
    "protocol_clarification",
    "other",
]
Severity = Literal["low", "medium", "high", "critical"]
CATEGORIES: tuple[str, ...] = Category.__args__  # type: ignore[attr-defined]
SEVERITIES: tuple[str, ...] = Severity.__args__  # type: ignore[attr-defined]
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")

_DURATION = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


class PolicyError(ValueError):
    """A routing policy that cannot be used; the message names the field."""


def parse_duration(text: str) -> timedelta:
    """ISO 8601 durations as the contract writes them (`PT24H`, `P2D`, `PT30M`, `P1DT12H`)."""
    m = _DURATION.fullmatch(text.strip()) if isinstance(text, str) else None
    if not m or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT24H or P2D")
    w, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    value = timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s)
    if value <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return value


class Level(BaseModel):
    """One rung of a chain: a role and how long it has to acknowledge before the issue hands on."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    ack_within: str | None = None

    @field_validator("ack_within")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @property
    def timeout(self) -> timedelta | None:
        return parse_duration(self.ack_within) if self.ack_within else None


class TierOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_factor: float = Field(default=1.0, gt=0, le=10)
    also_notify_at_level_1: list[Role] = Field(default_factory=list)


class SeverityOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notify_through_level: int = Field(default=1, ge=1, le=20)


class WorkingHours(BaseModel):
    """One daily window, read in each recipient's own time zone."""

    model_config = ConfigDict(extra="forbid")

    start: str = "08:00"
    end: str = "18:00"
    days: list[str] = Field(default_factory=lambda: list(DAYS[:5]))

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a HH:MM time") from exc
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if d not in DAYS]
        if bad:
            raise ValueError(f"unknown day(s) {bad}; use {', '.join(DAYS)}")
        if not value:
            raise ValueError("at least one working day is needed")
        return value

    @model_validator(mode="after")
    def _order(self) -> WorkingHours:
        if time.fromisoformat(self.start) >= time.fromisoformat(self.end):
            raise ValueError(f"start {self.start} must be before end {self.end} (one window per day)")
        return self


class RoutingPolicy(BaseModel):
    """Chains per category (`default` for the rest), tier and severity overrides, working hours."""

    model_config = ConfigDict(extra="ignore")

    chains: dict[str, list[Level]]
    tier_overrides: dict[Tier, TierOverride] = Field(default_factory=dict)
    severity_overrides: dict[Severity, SeverityOverride] = Field(default_factory=dict)
    working_hours: WorkingHours = Field(default_factory=WorkingHours)

    @field_validator("chains")
    @classmethod
    def _chains(cls, value: dict[str, list[Level]]) -> dict[str, list[Level]]:
        if "default" not in value:
            raise ValueError("a 'default' chain is required (used for categories without their own)")
        for name, chain in value.items():
            if name != "default" and name not in CATEGORIES:
                raise ValueError(f"chain {name!r} is not a category ({', '.join(CATEGORIES)}) or 'default'")
            if not chain:
                raise ValueError(f"chain {name!r} has no levels")
            for i, level in enumerate(chain[:-1], start=1):
                if level.timeout is None:
                    raise ValueError(
                        f"chain {name!r} level {i} ({level.role}) needs ack_within (only the last level has none)"
                    )
        return value

    def chain(self, category: str) -> list[Level]:
        return self.chains.get(category) or self.chains["default"]

    def tier(self, tier: str) -> TierOverride:
        return self.tier_overrides.get(tier, TierOverride())  # type: ignore[call-overload]

    def through_level(self, severity: str, chain_length: int) -> int:
        override = self.severity_overrides.get(severity)  # type: ignore[call-overload]
        return min(override.notify_through_level if override else 1, chain_length)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def describe_error(exc: ValidationError, prefix: str = "routing") -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_policy(raw: Any, *, label: str = "routing") -> RoutingPolicy:
    """Validate a routing object; PolicyError names the field that is wrong."""
    if not isinstance(raw, dict):
        raise PolicyError(f"{label}: expected an object with 'chains', got {type(raw).__name__}")
    try:
        return RoutingPolicy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(describe_error(exc, label)) from None


def load_policy_file(path: Path) -> RoutingPolicy:
    """Read a policy YAML/JSON file: either the routing object itself or `{routing: ...}`."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path.name}: not valid YAML ({exc})") from None
    if isinstance(doc, dict) and "routing" in doc and "chains" not in doc:
        doc = doc["routing"]
    return parse_policy(doc, label=path.name)
