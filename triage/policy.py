"""The triage policy: priority rules, sender-flood limits and dedupe thresholds, loaded from YAML.

The built-in `default_policy.yaml` applies unless `Settings.triage_policy_path` names a sponsor's
own file. The file is validated once, at load: a bad regex or threshold is refused with its place
named, so a typo never silently turns a safety rule off.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.settings import Settings

DEFAULT_POLICY_PATH = Path(__file__).with_name("default_policy.yaml")


class PolicyError(ValueError):
    """A triage policy that cannot be used; the message names the file and the field."""


def _compile(patterns: list[str]) -> list[re.Pattern[str]]:
    compiled = []
    for p in patterns:
        try:
            compiled.append(re.compile(p, re.IGNORECASE))
        except re.error as exc:
            raise ValueError(f"bad regular expression {p!r}: {exc}") from None
    return compiled


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UrgentRule(_Strict):
    id: str = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=200)
    protected: bool = True
    patterns: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)  # any of these in the text: the rule does not apply
    # A match inside one of these phrases does not count ("emergency unblinding remains available",
    # "review the SAE log", "no safety concern has been identified"); other matches still do.
    ignore_within: list[str] = Field(default_factory=list)

    @field_validator("patterns", "unless", "ignore_within")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        _compile(value)
        return value

    @property
    def compiled(self) -> list[re.Pattern[str]]:
        return _compile(self.patterns)

    @property
    def compiled_unless(self) -> list[re.Pattern[str]]:
        return _compile(self.unless)

    @property
    def compiled_ignore_within(self) -> list[re.Pattern[str]]:
        return _compile(self.ignore_within)


class ActionPolicy(_Strict):
    reason: str = "request due {due}"
    text_due_patterns: list[str] = Field(default_factory=list)
    # A date in the text is a due date only in a sentence that asks for something (empty: any sentence).
    request_cue_patterns: list[str] = Field(default_factory=list)

    @field_validator("text_due_patterns")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        for p in _compile(value):
            if "date" not in p.groupindex:
                raise ValueError(f"pattern {p.pattern!r} needs a (?P<date>...) group")
        return value

    @field_validator("request_cue_patterns")
    @classmethod
    def _valid_cues(cls, value: list[str]) -> list[str]:
        _compile(value)
        return value


class DeclaredUrgentPolicy(_Strict):
    cue_patterns: list[str] = Field(default_factory=list)
    reason: str = "declared urgent by {sender}, and the text asks for immediate action"

    @field_validator("cue_patterns")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        _compile(value)
        return value


class SenderFloodPolicy(_Strict):
    window_days: int = Field(default=30, ge=1, le=365)
    min_updates: int = Field(default=3, ge=1)
    max_declared_urgent_rate: float = Field(default=0.5, ge=0.0, le=1.0)


class DedupePolicy(_Strict):
    window_days: float = Field(default=7, gt=0, le=60)
    min_ratio: float = Field(default=85, ge=50, le=100)
    state_words: list[str] = Field(default_factory=list)
    # A message that says it passes something on ("Reminder:", "FW:", "see below from the sponsor")
    # repeats an earlier one when this share of its content words is in it, and the stemmed words'
    # rapidfuzz token_set_ratio reaches the minimum; stricter when no shared date/code anchors them.
    relay_min_words: int = Field(default=4, ge=1)
    relay_min_overlap: float = Field(default=0.55, ge=0.3, le=1.0)
    relay_min_token_set: float = Field(default=75, ge=50, le=100)
    relay_unanchored_min_overlap: float = Field(default=0.75, ge=0.3, le=1.0)
    relay_unanchored_min_token_set: float = Field(default=85, ge=50, le=100)


class LlmPolicy(_Strict):
    enabled: bool = False


class InformationalPolicy(_Strict):
    """Urgency comes from what an update asks the site to do, not from the words it mentions: a
    sentence that only says how things stand ("the emergency unblinding line stays open as usual",
    "the manual describes when to quarantine kits") is not a reason to interrupt, so urgent-rule
    matches inside it do not count, unless the same sentence asks for something (an instruction)."""

    standing_patterns: list[str] = Field(default_factory=list)
    instruction_patterns: list[str] = Field(default_factory=list)

    @field_validator("standing_patterns", "instruction_patterns")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        _compile(value)
        return value

    @property
    def compiled_standing(self) -> list[re.Pattern[str]]:
        return _compile(self.standing_patterns)

    @property
    def compiled_instructions(self) -> list[re.Pattern[str]]:
        return _compile(self.instruction_patterns)


class TriagePolicy(_Strict):
    urgent_rules: list[UrgentRule] = Field(min_length=1)
    informational: InformationalPolicy = InformationalPolicy()
    action: ActionPolicy = ActionPolicy()
    fyi_reason: str = "for information"
    declared_urgent: DeclaredUrgentPolicy = DeclaredUrgentPolicy()
    sender_flood: SenderFloodPolicy = SenderFloodPolicy()
    dedupe: DedupePolicy = DedupePolicy()
    llm: LlmPolicy = LlmPolicy()


def load_policy(path: Path | None = None) -> TriagePolicy:
    """Read and validate a policy file (the built-in one when `path` is None)."""
    path = path or DEFAULT_POLICY_PATH
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise PolicyError(f"{path}: expected a mapping at the top")
    try:
        return TriagePolicy.model_validate(doc)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise PolicyError(f"{path}: {where}") from None


def policy_for(settings: Settings) -> TriagePolicy:
    """The policy a running Siteline uses: the sponsor's file if configured, else the default."""
    return load_policy(settings.triage_policy_path)
