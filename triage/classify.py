"""Siteline's own judgment of an update's priority, with a short reason.

Content decides: a safety, IP-integrity, enrolment-hold or unblinding rule makes an update
`urgent`; a request with a due date is `action`; the rest is `fyi`. The sender's
`declared_priority` is only a hint: `urgent` is honoured from a sender who rarely uses it and
only when the text itself asks for immediate action, so a sender who marks everything urgent
does not interrupt anybody. When the rules do not find an update urgent, its nearest labelled
examples (triage.semantic, a sentence embedding) may raise it to urgent: a wording no rule knows
still interrupts when it is clearly closer to urgent examples than to the rest. That signal only
raises. An optional refiner (an LLM) may adjust the result, but never lowers a protected (safety) rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from triage import semantic
from triage.policy import TriagePolicy

PRIORITIES = ("urgent", "action", "fyi")
_RANK = {"urgent": 0, "action": 1, "fyi": 2}


@dataclass(frozen=True)
class SenderRecord:
    """A sender's recent history (before this update): how often they declared `urgent`."""

    updates: int = 0
    declared_urgent: int = 0

    @property
    def declared_urgent_rate(self) -> float:
        return self.declared_urgent / self.updates if self.updates else 0.0


@dataclass(frozen=True)
class Judgment:
    priority: str  # urgent | action | fyi
    reason: str
    rule: str  # which rule decided (for stats and audit)
    protected: bool = False  # a safety rule matched: nobody may lower it


class Refiner(Protocol):
    """A second opinion (e.g. an LLM); returns None to keep the rules' judgment."""

    def refine(self, *, subject: str, body: str, judgment: Judgment) -> Judgment | None: ...


class _Default:
    """Marker: use the shipped examples (loaded on first need)."""


DEFAULT_EXEMPLARS = _Default()


class Classifier:
    """Applies a `TriagePolicy`; compiled once, called per update (regexes; the example model
    only for updates the rules did not find urgent, cached by text)."""

    def __init__(
        self,
        policy: TriagePolicy,
        refiner: Refiner | None = None,
        exemplars: semantic.UrgentExemplars | _Default | None = DEFAULT_EXEMPLARS,
    ) -> None:
        self.policy = policy
        self.refiner = refiner
        self._exemplars = exemplars
        self._urgent = [(r, r.compiled, r.compiled_unless, r.compiled_ignore_within) for r in policy.urgent_rules]
        self._due = [re.compile(p, re.IGNORECASE) for p in policy.action.text_due_patterns]
        self._requests = [re.compile(p, re.IGNORECASE) for p in policy.action.request_cue_patterns]
        self._cues = [re.compile(p, re.IGNORECASE) for p in policy.declared_urgent.cue_patterns]
        self._standing = policy.informational.compiled_standing
        self._instructions = policy.informational.compiled_instructions

    def is_flooding(self, record: SenderRecord) -> bool:
        """Whether a sender declares `urgent` too often for the hint to mean anything."""
        flood = self.policy.sender_flood
        return record.updates >= flood.min_updates and record.declared_urgent_rate > flood.max_declared_urgent_rate

    def judge(
        self,
        *,
        subject: str,
        body: str,
        due: date | None,
        declared: str | None,
        sender: str,
        record: SenderRecord,
        core: str | None = None,
    ) -> Judgment:
        """`core` is the message without reminder/forward wrappers (see triage.fingerprint): the
        declared-urgent cue is looked for in its body, so "URGENT!!!" or "URGENT reminder:" in a
        subject never interrupts by itself."""
        judgment = self._by_rules(
            subject=subject, body=body, due=due, declared=declared, sender=sender, record=record, core=core
        )
        if judgment.priority != "urgent":
            text = core if core is not None else f"{subject}\n{body}"
            # The examples judge what the update asks, not the sentences that only say how things stand.
            judgment = self._by_examples(judgment, _without(text, self._informational_spans(text)))
        if self.refiner is None:
            return judgment
        refined = self.refiner.refine(subject=subject, body=body, judgment=judgment)
        if refined is None or refined.priority not in _RANK:
            return judgment
        if judgment.protected and _RANK[refined.priority] > _RANK[judgment.priority]:
            return judgment  # never downgrade a safety rule
        return refined

    @property
    def exemplars(self) -> semantic.UrgentExemplars | None:
        if isinstance(self._exemplars, _Default):
            self._exemplars = semantic.default_exemplars()
        return self._exemplars

    @exemplars.setter
    def exemplars(self, value: semantic.UrgentExemplars | None) -> None:
        self._exemplars = value

    def _by_examples(self, judgment: Judgment, text: str) -> Judgment:
        """Raise to urgent when the nearest labelled examples are clearly urgent ones; never lowers."""
        model = self.exemplars
        nearest = model.urgent_neighbour(text) if model is not None else None
        if nearest is None:
            return judgment
        reason = f"close to urgent example “{nearest.exemplar.title}” (similarity {nearest.similarity:.2f})"
        return Judgment("urgent", reason, "nearest_urgent_example")

    def _by_rules(
        self,
        *,
        subject: str,
        body: str,
        due: date | None,
        declared: str | None,
        sender: str,
        record: SenderRecord,
        core: str | None = None,
    ) -> Judgment:
        text = f"{subject}\n{body}"
        informational = self._informational_spans(text)
        for rule, patterns, unless, ignore_within in self._urgent:
            if unless and any(u.search(text) for u in unless):
                continue
            ignored = [m.span() for e in ignore_within for m in e.finditer(text)] + informational
            for pattern in patterns:
                m = _first_match(pattern, text, ignored)
                if m:
                    end = m.end()
                    while end < len(text) and text[end].isalnum():  # quote whole words
                        end += 1
                    quote = _clip(text[m.start() : end])
                    return Judgment("urgent", f"{rule.reason} (“{quote}”)", rule.id, rule.protected)
        cue_text = body if core is None else core.partition("\n")[2]
        if declared == "urgent" and not self.is_flooding(record) and any(c.search(cue_text) for c in self._cues):
            return Judgment("urgent", self.policy.declared_urgent.reason.format(sender=sender), "declared_urgent")
        due_text = due.isoformat() if due else self._due_in_text(text)
        note = self._declared_note(declared, record)
        if due_text:
            return Judgment("action", self.policy.action.reason.format(due=due_text) + note, "request_due")
        return Judgment("fyi", self.policy.fyi_reason + note, "fyi")

    def _informational_spans(self, text: str) -> list[tuple[int, int]]:
        """The sentences that only tell how things stand and ask nothing (see `InformationalPolicy`):
        an urgent rule's match inside one is a mention, not a reason to interrupt."""
        if not self._standing:
            return []
        spans = []
        for start, end in _sentence_spans(text):
            sentence = text[start:end]
            if any(p.search(sentence) for p in self._standing) and not any(
                p.search(sentence) for p in self._instructions
            ):
                spans.append((start, end))
        return spans

    def _due_in_text(self, text: str) -> str | None:
        """A date (or "within 5 business days") the text asks for: in a sentence that requests
        something, so "will be over-read by 8 April" is news, "please confirm by 8 April" a request."""
        for sentence in _SENTENCES.split(text):
            if self._requests and not any(r.search(sentence) for r in self._requests):
                continue
            for pattern in self._due:
                m = pattern.search(sentence)
                if m:
                    return " ".join(m.group("date").split())
        return None

    def _declared_note(self, declared: str | None, record: SenderRecord) -> str:
        if declared != "urgent":
            return ""
        if self.is_flooding(record):
            return f"; declared urgent, but the sender marks {record.declared_urgent_rate:.0%} of updates urgent"
        return "; declared urgent, not confirmed by the content"


_SENTENCES = re.compile(r"\n+|(?<=[.!?])\s+")


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    """`text` with the given spans cut out (sentences, so the rest still reads)."""
    if not spans:
        return text
    kept, at = [], 0
    for start, end in spans:
        kept.append(text[at:start])
        at = end
    kept.append(text[at:])
    return "".join(kept).strip()


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line of `text`, split as `_SENTENCES` splits."""
    spans, start = [], 0
    for sep in _SENTENCES.finditer(text):
        spans.append((start, sep.start()))
        start = sep.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if b > a]


def _first_match(pattern: re.Pattern[str], text: str, ignored: list[tuple[int, int]]) -> re.Match[str] | None:
    """The first match of `pattern` that does not lie inside an ignored phrase."""
    for m in pattern.finditer(text):
        if not any(a <= m.start() and m.end() <= b for a, b in ignored):
            return m
    return None


def _clip(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
