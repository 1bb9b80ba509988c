"""The example signal: raises unknown urgent wordings, never lowers a rule's urgent, degrades to rules."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from triage import semantic
from triage.classify import Classifier, Judgment, SenderRecord
from triage.evaluate import evaluate, load_labelled
from triage.policy import load_policy
from triage.semantic import Exemplar, UrgentExemplars

POLICY = load_policy()
BLIND3 = Path(__file__).parent / "data" / "triage_priority_blind3.jsonl"


class WordEmbedder:
    """A toy embedding: one axis per keyword, so tests control which example is nearest."""

    AXES = ("halt", "newsletter", "portal", "deadline")

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.array([[1.0 if a in t.lower() else 0.0 for a in self.AXES] + [0.1] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def toy_model() -> tuple[UrgentExemplars, WordEmbedder]:
    embedder = WordEmbedder()
    examples = [
        Exemplar("Halt all new patients\nhalt now", "urgent"),
        Exemplar("Halt of entry\nhalt", "urgent"),
        Exemplar("Newsletter\nnewsletter", "fyi"),
        Exemplar("Portal\nportal news", "fyi"),
        Exemplar("Deadline\nplease reply by the deadline", "action"),
    ]
    model = UrgentExemplars.build(examples, embedder)
    embedder.calls = 0  # count only the updates' embeddings
    return model, embedder


def judge(c: Classifier, subject: str, body: str = "") -> Judgment:
    return c.judge(subject=subject, body=body, due=None, declared=None, sender="s1", record=SenderRecord())


def test_an_update_close_to_urgent_examples_is_raised_with_a_reason_naming_the_example() -> None:
    model, _ = toy_model()
    j = judge(Classifier(POLICY, exemplars=model), "Please halt", "halt everything")
    assert (j.priority, j.rule) == ("urgent", "nearest_urgent_example")
    assert "Halt all new patients" in j.reason or "Halt of entry" in j.reason
    assert judge(Classifier(POLICY, exemplars=model), "Portal news", "the portal has a new look").priority == "fyi"


def test_a_rules_urgent_is_never_lowered_and_not_even_embedded() -> None:
    model, embedder = toy_model()
    c = Classifier(POLICY, exemplars=model)
    for subject, body in [("Halt note", "A participant died last week; SUSAR attached."),
                          ("Portal", "Screening is on hold at all sites.")]:  # fmt: skip
        j = judge(c, subject, body)
        assert j.priority == "urgent" and j.rule in {r.id for r in POLICY.urgent_rules} and j.protected
    assert embedder.calls == 0


def test_repeats_are_embedded_once() -> None:
    model, embedder = toy_model()
    c = Classifier(POLICY, exemplars=model)
    for _ in range(3):
        judge(c, "Portal news", "The portal   has a new look")
        judge(c, "portal news", "the portal has a new look")
    assert embedder.calls == 1


def test_without_the_model_the_rules_decide_alone_and_it_is_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(semantic, "_state", {})
    monkeypatch.setattr(semantic, "EXEMPLARS_PATH", Path("/nonexistent/exemplars.jsonl"))
    monkeypatch.setattr(semantic.load_exemplars, "__defaults__", (Path("/nonexistent/exemplars.jsonl"),))
    with caplog.at_level(logging.WARNING, logger="triage.semantic"):
        for _ in range(2):
            c = Classifier(POLICY)
            assert judge(c, "Pause all new randomisations", "Please pause them today.").rule != "nearest_urgent_example"
            assert judge(c, "Enrolment on hold").priority == "urgent"
    assert sum("rules only" in r.getMessage() for r in caplog.records) == 1


def test_shipped_examples_do_not_include_the_blind_set() -> None:
    texts = {e.source for e in semantic.load_exemplars()}
    assert not any("blind3" in s for s in texts)


def test_blind_set_3_urgent_recall_and_false_urgent_thresholds() -> None:
    """Fixed split: shipped examples (built without blind #3) vs the 80 hand-labelled updates of blind #3.
    Rules only measured 22/36 urgent, 3 false urgent; with the examples 30/36 and 4."""
    items = load_labelled(BLIND3)
    rules = evaluate(Classifier(POLICY, exemplars=None), items)
    both = evaluate(Classifier(POLICY), items)
    assert both.support["urgent"] == 36
    assert both.correct["urgent"] >= 30 > rules.correct["urgent"]
    assert both.false_urgent <= 4
    assert both.accuracy >= 0.8
