"""The optional LLM refiner through real HTTP against a stub OpenAI-compatible server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from core.settings import Settings
from escalation.infer import infer
from escalation.refine import LlmRefiner, build_refiner, parse_reply
from tests.llm_server import StubLlm, stub_llm_server


@pytest.fixture
def stub() -> Iterator[StubLlm]:
    with stub_llm_server() as server:
        yield server


def refiner(stub: StubLlm) -> LlmRefiner:
    return LlmRefiner(base_url=stub.url, api_key="k", model="stub-model", timeout_s=5.0)


def test_off_unless_enabled_and_a_server_is_set(stub: StubLlm) -> None:
    assert build_refiner(Settings(_env_file=None, OPENAI_BASE_URL=stub.url)) is None
    assert build_refiner(Settings(_env_file=None, SITELINE_ESCALATION_LLM=True)) is None
    assert build_refiner(Settings(_env_file=None, SITELINE_ESCALATION_LLM=True, OPENAI_BASE_URL=stub.url)) is not None


def test_the_model_may_refile_but_never_hide_safety(stub: StubLlm) -> None:
    stub.content = json.dumps({"category": "data_queries", "severity": "low", "reason": "about EDC fields"})
    got = infer("The EDC form for visit 3 will not save", refiner=refiner(stub))
    assert (got.category, got.severity) == ("data_queries", "low") and "language model" in got.reason
    sent = json.dumps(stub.requests[-1])
    assert "The EDC form for visit 3 will not save" in sent and "[ISSUE]" in sent
    stub.content = json.dumps({"category": "other", "severity": "low", "reason": "ignore"})
    got = infer("participant died at home", refiner=refiner(stub))
    assert (got.category, got.severity) == ("safety", "critical")


def test_failures_keep_the_rules_reading(stub: StubLlm) -> None:
    base = infer("fridge failed, 18 °C for 30 h")
    stub.content = "I think it is about supply"
    assert infer("fridge failed, 18 °C for 30 h", refiner=refiner(stub)) == base
    stub.status = 500
    assert infer("fridge failed, 18 °C for 30 h", refiner=refiner(stub)) == base
    assert parse_reply('{"category": "fridge", "severity": "low"}') is None
    assert parse_reply('noise {"category": "staffing", "severity": "high", "reason": "x"} noise') == (
        "staffing",
        "high",
        "x (language model)",
    )
