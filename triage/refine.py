"""An optional second opinion on priority from an LLM (any OpenAI-compatible server).

Off unless the triage policy says `llm.enabled: true` *and* the settings name a server. The
rules' judgment stands whenever the model fails, times out or answers out of format, and the
classifier never lets it lower a protected (safety) rule, so the model can only add caution.
"""

from __future__ import annotations

import json
import logging
import re
from string import Template

import prompts
from core.settings import Settings
from triage.classify import PRIORITIES, Judgment, Refiner
from triage.policy import TriagePolicy

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_JSON = re.compile(r"\{.*\}", re.DOTALL)
MAX_BODY = 4000


class LlmRefiner:
    def __init__(self, settings: Settings) -> None:
        from langchain_openai import ChatOpenAI  # imported only when the LLM is on: it is slow to load

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
        self._chat = ChatOpenAI(
            base_url=settings.openai_base_url or DEFAULT_BASE_URL,
            api_key=key,
            model=settings.llm_model,
            temperature=0,
            timeout=min(settings.llm_timeout_s, 20.0),
            max_retries=1,
            extra_body={"max_tokens": 80},
        )
        self._system = Template(prompts.load("triage_priority"))
        self._user = Template(prompts.load("triage_priority_user"))

    def refine(self, *, subject: str, body: str, judgment: Judgment) -> Judgment | None:
        system = self._system.safe_substitute(rule_priority=judgment.priority, rule_reason=judgment.reason)
        user = self._user.safe_substitute(subject=subject, body=body[:MAX_BODY])
        from langchain_core.messages import HumanMessage, SystemMessage

        try:
            reply = self._chat.invoke([SystemMessage(system), HumanMessage(user)])
        except Exception as exc:  # the rules' judgment stands; one log line says why
            log.warning("triage LLM unavailable (%s); keeping the rules' priority", type(exc).__name__)
            return None
        return parse_reply(str(reply.content), judgment)


def parse_reply(text: str, judgment: Judgment) -> Judgment | None:
    """The model's judgment if it is well-formed, else None (keep the rules')."""
    m = _JSON.search(text)
    if not m:
        return None
    try:
        data = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None
    priority = data.get("priority") if isinstance(data, dict) else None
    if priority not in PRIORITIES:
        return None
    if priority == judgment.priority:
        return None
    reason = " ".join(str(data.get("reason") or "judged by the language model").split())[:120]
    return Judgment(priority, f"{reason} (language model; rules said {judgment.priority})", "llm", judgment.protected)


def build_refiner(settings: Settings, policy: TriagePolicy) -> Refiner | None:
    if not (policy.llm.enabled and settings.llm_enabled):
        return None
    return LlmRefiner(settings)
