"""An optional LLM second opinion on an inferred category and severity (any OpenAI-compatible server).

Off unless `SITELINE_ESCALATION_LLM` is on *and* the settings name a server. The rules' reading
stands whenever the model fails, times out or answers out of format, and `infer.guard` never
lets it move an issue out of safety or lower a safety/critical severity.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from string import Template

import prompts
from core.settings import Settings
from escalation.infer import Inference, Refiner
from escalation.policy import CATEGORIES, SEVERITIES

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_JSON = re.compile(r"\{.*\}", re.DOTALL)
MAX_SUMMARY = 4000


class LlmRefiner:
    def __init__(self, *, base_url: str, api_key: str, model: str, timeout_s: float) -> None:
        from langchain_openai import ChatOpenAI  # imported only when the LLM is on: it is slow to load

        self._chat = ChatOpenAI(
            base_url=base_url,
            api_key=api_key,
            model=model,
            temperature=0,
            timeout=min(timeout_s, 20.0),
            max_retries=1,
            extra_body={"max_tokens": 80},
        )
        self._system = Template(prompts.load("escalation_classify"))
        self._user = Template(prompts.load("escalation_classify_user"))

    def refine(self, summary: str, guess: Inference) -> tuple[str, str, str] | None:
        from langchain_core.messages import HumanMessage, SystemMessage

        system = self._system.safe_substitute(
            rule_category=guess.category, rule_severity=guess.severity, rule_reason=guess.reason
        )
        user = self._user.safe_substitute(summary=summary[:MAX_SUMMARY])
        try:
            reply = self._chat.invoke([SystemMessage(system), HumanMessage(user)])
        except Exception as exc:  # the rules' reading stands; one log line says why
            log.warning("escalation LLM unavailable (%s); keeping the rules' reading", type(exc).__name__)
            return None
        return parse_reply(str(reply.content))


def parse_reply(text: str) -> tuple[str, str, str] | None:
    """(category, severity, reason) if the reply is well-formed, else None."""
    m = _JSON.search(text)
    if not m:
        return None
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("category") not in CATEGORIES or data.get("severity") not in SEVERITIES:
        return None
    reason = " ".join(str(data.get("reason") or "judged by the language model").split())[:120]
    return str(data["category"]), str(data["severity"]), f"{reason} (language model)"


def build_refiner(settings: Settings) -> Refiner | None:
    """The refiner when enabled and a server is configured, else None (rules only)."""
    if not (settings.escalation_llm_refine and settings.llm_enabled):
        return None
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    return _cached(settings.openai_base_url or DEFAULT_BASE_URL, key, settings.llm_model, settings.llm_timeout_s)


@lru_cache(maxsize=4)
def _cached(base_url: str, api_key: str, model: str, timeout_s: float) -> LlmRefiner:
    return LlmRefiner(base_url=base_url, api_key=api_key, model=model, timeout_s=timeout_s)
