"""What the guard hands back: the redacted text, where identifiers were, and what to tell the user.

Findings point into the ORIGINAL text so callers can audit or highlight without keeping the original
around; the redacted text is what may be stored, logged or sent to an LLM.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# How each kind is named to the user, in the order the notice lists them.
KIND_LABELS: dict[str, str] = {
    "NAME": "names",
    "MRN": "medical record numbers",
    "SSN": "Social Security numbers",
    "DOB": "dates of birth",
    "DATE": "dates",
    "AGE": "ages over 89",
    "PHONE": "phone numbers",
    "EMAIL": "email addresses",
    "ADDRESS": "addresses",
    "ID": "ID numbers",
    "URL": "web addresses",
    "IP": "IP addresses",
}


@dataclass(frozen=True)
class Finding:
    """One identifier: its kind (a key of KIND_LABELS) and its [start, end) span in the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    """The result of PhiGuard.redact: safe text plus the findings that produced it."""

    text: str
    findings: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        return bool(self.findings)

    def notice(self) -> str:
        """A short, gentle sentence naming the kinds removed, or "" when nothing was."""
        kinds = {f.kind for f in self.findings}
        if not kinds:
            return ""
        labels = [label for kind, label in KIND_LABELS.items() if kind in kinds]
        labels += sorted(k.lower() for k in kinds if k not in KIND_LABELS)
        return (
            f"To protect patient privacy I removed {_join(labels)} from your message before saving or "
            "using it. Please refer to participants by their study subject number instead."
        )


def apply(text: str, findings: Iterable[Finding]) -> Redaction:
    """Replace each (non-overlapping, sorted) finding by its [KIND] placeholder."""
    ordered = tuple(sorted(findings, key=lambda f: f.start))
    parts: list[str] = []
    cursor = 0
    for f in ordered:
        if f.start < cursor:
            raise ValueError(f"overlapping findings at {f.start}: merge them before applying")
        parts.append(text[cursor : f.start])
        parts.append(f"[{f.kind}]")
        cursor = f.end
    parts.append(text[cursor:])
    return Redaction(text="".join(parts), findings=ordered)


def _join(labels: list[str]) -> str:
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]
