"""PhiGuard: the one call the chat layer makes before anything is stored, logged or sent to an LLM.

Layers, each doing what it is good at:
1. philter-lite (privacy.philter_layer): UCSF's clinical filters — census name lists, salutations,
   clinical date/ID/contact/age/address patterns.
2. Targeted detectors (privacy.detectors): labelled MRN/DOB/SSN/member IDs, phones, emails, URLs, IPs,
   ages over 89, street addresses — the shapes staff paste.
3. Chat-shaped names (privacy.names): names after cues ("pt", "Mrs.", "her husband"), grown to whole.
Then trial vocabulary vetoes (privacy.vocabulary), the date policy (privacy.dates), and overlaps are
merged into one finding per identifier. Nothing here logs or keeps the text it is given.
"""

from __future__ import annotations

import re
import threading
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from privacy import dates, detectors, vocabulary
from privacy.names import NameFinder
from privacy.redaction import Finding, Redaction, apply

if TYPE_CHECKING:
    from privacy.philter_layer import PhilterLayer

# Identifiers that can only be a participant's, whatever the text is about: what is removed from
# sponsor/CRO updates (PhiGuard.redact(text, only=PARTICIPANT_IDS)).
PARTICIPANT_IDS = frozenset({"MRN", "SSN", "DOB", "AGE"})

# When findings overlap, the merged identifier takes the first kind in this order: containers first
# (an email holds a name, a URL holds a number), then labelled kinds over philter's generic ones.
PRIORITY = ["EMAIL", "URL", "IP", "SSN", "MRN", "DOB", "ADDRESS", "PHONE", "AGE", "NAME", "ID", "DATE"]
_RANK = {k: i for i, k in enumerate(PRIORITY)}
# between two parts of one name: a space, a comma, a hyphen, or one capitalised word or particle ("Li Na Wu",
# "Maria de la Cruz") that the name lists do not know
_NAME_GAP = re.compile(
    r"^(?:\s+|,\s*|\s*-\s*|['’]\s*|\s+(?:[A-Z][a-z]+|(?:de|da|del|la|le|du|dos|van|von|der|den|bin|ibn|al)"
    r"(?:\s+(?:la|le|los|der|den))?)\s+)$"
)
_FULL_DATE = re.compile(detectors.DATE)
_LEADING_PREPOSITION = re.compile(r"(?:(?:in|at|on|to|from|near|of)\s+)+")
_AGE_NUMBER = re.compile(r"\d+")
OLDEST_UNREDACTED_AGE = 89  # Safe Harbor: ages over 89 are identifiers, younger ones are not


class PhiGuard:
    """Detects HIPAA Safe Harbor identifiers in chat text and returns the redacted text."""

    @cached_property
    def _philter(self) -> PhilterLayer:
        # imported here, not at module level: philter-lite parses its 5 MB name lists on import (1-3 s),
        # and `import privacy` must stay cheap for every CLI command that never redacts anything
        from privacy.philter_layer import PhilterLayer

        return PhilterLayer()

    @cached_property
    def _names(self) -> NameFinder:
        from philter_lite.filters import filter_db

        sets = filter_db.set_db
        return NameFinder(frozenset(sets["nonames"]), frozenset(sets["firstnames"]), frozenset(sets["lastnames"]))

    def loaded(self) -> PhiGuard:
        """The guard with its filters and name lists loaded now (chat surfaces warm up at start)."""
        _ = self._philter, self._names
        return self

    def redact(self, text: str, *, only: frozenset[str] | None = None) -> Redaction:
        """The redacted text. `only` limits it to the labelled kinds named (e.g. PARTICIPANT_IDS for a
        sponsor's update to every site, where dates, staff names and helpdesk numbers are the message);
        those come from the targeted detectors alone, so the name lists are not even loaded."""
        if not isinstance(text, str):
            raise TypeError(f"PhiGuard.redact needs a str, got {type(text).__name__}")
        if not text.strip():
            return Redaction(text=text, findings=())
        if only is not None:
            labelled = [_snap(text, f) for f in detectors.detect(text) if f.kind in only]
            return apply(text, _merge(text, _old_ages_only(text, labelled)))
        return apply(text, self.findings(text))

    def findings(self, text: str) -> list[Finding]:
        """Merged, non-overlapping findings in text order."""
        safe = vocabulary.safe_spans(text)
        raw = [
            *self._philter.detect(text),
            *detectors.short_dates(text),
            *self._names.after_cues(text, safe),
        ]
        found = [_snap(text, f) for f in raw if not vocabulary.inside_any(f.start, f.end, safe)]
        found += [_snap(text, f) for f in detectors.detect(text)]  # labelled and exact: no veto
        found = _old_ages_only(text, found)
        found = _dates_or_names(text, [_date_shaped_ids(text, f) for f in found])
        names = [f for f in found if f.kind == "NAME"]
        found = [f for f in found if f.kind != "NAME"] + self._names.grow(text, names, safe)
        found = dates.keep_dates(text, found)
        merged = [
            self._names.trim(text, f) if f.kind == "NAME" else _trim_address(text, f) for f in _merge(text, found)
        ]
        return [f for f in merged if f is not None]


_default: PhiGuard | None = None
_default_lock = threading.Lock()


def default_guard() -> PhiGuard:
    """The process-wide guard: filters and name lists load once (about a second), on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = PhiGuard()
    return _default


M = TypeVar("M", bound=BaseModel)


def redact_fields(model: M, fields: tuple[str, ...], *, only: frozenset[str] | None = None) -> M:
    """A copy of `model` with those text fields redacted by the process-wide guard (`model` itself
    when nothing was found): how a whole message (e.g. an update's subject and body) is cleaned."""
    guard = default_guard() if only is not None else default_guard().loaded()
    changed = {}
    for name in fields:
        value = getattr(model, name)
        if isinstance(value, str):
            redaction = guard.redact(value, only=only)
            if redaction.changed:
                changed[name] = redaction.text
    return model.model_copy(update=changed) if changed else model


def _old_ages_only(text: str, findings: list[Finding]) -> list[Finding]:
    kept = []
    for f in findings:
        if f.kind != "AGE":
            kept.append(f)
            continue
        for m in _AGE_NUMBER.finditer(text, f.start, f.end):
            if int(m.group()) > OLDEST_UNREDACTED_AGE:
                kept.append(Finding("AGE", m.start(), m.end()))
    return kept


def _date_shaped_ids(text: str, f: Finding) -> Finding:
    """philter's ID patterns also match ISO dates ("2025-03-11"): those are dates, under the date policy."""
    if f.kind == "ID" and _FULL_DATE.fullmatch(text, f.start, f.end):
        return Finding("DATE", f.start, f.end)
    return f


def _dates_or_names(text: str, findings: list[Finding]) -> list[Finding]:
    """Where a name and a date overlap: "12 Jan 2025" is a date, "June Park" is a name."""
    dated = [f for f in findings if f.kind in ("DATE", "DOB")]
    named = [f for f in findings if f.kind == "NAME"]
    drop: set[Finding] = set()
    for d in dated:
        for n in named:
            if n.start < d.end and d.start < n.end:
                has_digit = any(c.isdigit() for c in text[d.start : d.end])
                drop.add(n if has_digit else d)
    return [f for f in findings if f not in drop]


def _snap(text: str, f: Finding) -> Finding:
    """Whole words only ("José", not "Jos" + "é"), without trailing punctuation or spaces."""
    start, end = f.start, f.end
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ".,;:!?"):
        end -= 1
    while start < end and (text[start].isspace() or text[start] in ",;:<"):
        start += 1
    return Finding(f.kind, start, end)


def _trim_address(text: str, f: Finding) -> Finding:
    """philter's address patterns can start at the preposition: "lives in Quincy, MA" keeps "in"."""
    m = _LEADING_PREPOSITION.match(text, f.start, f.end) if f.kind == "ADDRESS" else None
    return Finding(f.kind, m.end(), f.end) if m and m.end() < f.end else f


def _merge(text: str, findings: list[Finding]) -> list[Finding]:
    """Union overlapping findings (and name parts split only by a space or comma) into one each."""
    merged: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged:
            last = merged[-1]
            both_names = last.kind == f.kind == "NAME" and _NAME_GAP.match(text[last.end : f.start])
            if f.start < last.end or both_names:
                kind = min(last.kind, f.kind, key=lambda k: _RANK.get(k, len(PRIORITY)))
                merged[-1] = Finding(kind, last.start, max(last.end, f.end))
                continue
        merged.append(f)
    return merged
