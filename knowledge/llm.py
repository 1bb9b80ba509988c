"""The optional LLM answer path: any OpenAI-compatible server writes the answer from retrieved passages.

The model only drafts; `knowledge.llm_guardrail` decides. Passages go to the model as numbered,
delimited DATA blocks that the prompt declares to be document content and never instructions,
and the reply is shown only when every claim cites a passage with a quote that really occurs
there. Any failure (network, timeout, broken format, unverifiable citation) yields None, so the
caller falls back to the extractive answer instead of showing an ungrounded one.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from string import Template

import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

import prompts
from core.settings import Settings
from knowledge.llm_guardrail import Rejected, parse_reply, verify
from knowledge.types import Answer, Passage

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
LOCAL_API_KEY = "not-needed"  # local servers (llama.cpp, vLLM, Ollama) accept any key
MAX_PASSAGES = 8
MAX_PASSAGE_CHARS = 3000  # per passage in the prompt; verification always uses the full text
# A passage must not be able to close its own DATA block and speak outside it.
_MARKER = re.compile(r"\[\s*(/|end\s+)?passage", re.IGNORECASE)


@dataclass(frozen=True)
class LlmOutcome:
    """The answer (None when the caller must fall back) and why, for logs and measurements."""

    answer: Answer | None
    reason: str
    reply: str = ""  # the model's raw text, kept for diagnosis (never contains secrets)
    latency_ms: int = 0


class LlmAnswerer:
    """Writes cited answers with a chat model; returns only answers whose citations check out."""

    def __init__(self, settings: Settings, *, max_tokens: int = 512, max_retries: int = 1) -> None:
        if not settings.llm_enabled:
            raise ValueError("the LLM path is off: set OPENAI_BASE_URL (local server) or OPENAI_API_KEY")
        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else LOCAL_API_KEY
        self._redact = _redactor(key)
        self._base_url = settings.openai_base_url or DEFAULT_BASE_URL
        self._chat = ChatOpenAI(
            base_url=self._base_url,
            api_key=key,
            model=settings.llm_model,
            temperature=0,
            timeout=settings.llm_timeout_s,
            max_retries=max_retries,
            # langchain sends `max_tokens` as `max_completion_tokens`, which llama.cpp and other
            # OpenAI-compatible servers ignore; the plain field reaches them only through the body.
            extra_body={"max_tokens": max_tokens},
        )
        self._system = prompts.load("answer_system")
        self._user = Template(prompts.load("answer_user"))
        self._example = json.loads(prompts.load("answer_example.json"))

    def answer(self, question: str, passages: list[Passage]) -> Answer | None:
        """An LLM-written answer whose every claim cites a retrieved passage with a verbatim quote;
        None when the model fails, times out, or its citations do not check out (caller falls back)."""
        return self.attempt(question, passages).answer

    def attempt(self, question: str, passages: list[Passage]) -> LlmOutcome:
        """`answer` with the reason it was accepted or rejected."""
        started = time.perf_counter()
        passages = passages[:MAX_PASSAGES]
        if not passages:
            return LlmOutcome(None, "no passages to answer from")
        try:
            reply = self._chat.invoke(self.messages(question, passages))
        except (openai.OpenAIError, httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            detail = self._redact(str(exc))[:300]  # a 401 body may echo the key back
            log.warning("LLM at %s failed (%s: %s); falling back", self._base_url, type(exc).__name__, detail)
            return LlmOutcome(None, f"model call failed: {type(exc).__name__}", latency_ms=_ms(started))
        text = _text_of(reply)
        try:
            answer = verify(parse_reply(text), passages)
        except Rejected as exc:
            log.info("LLM answer rejected by the citation guardrail: %s", exc)
            return LlmOutcome(None, f"rejected: {exc}", text, _ms(started))
        answer.latency_ms = _ms(started)
        return LlmOutcome(answer, "abstained" if answer.abstained else "accepted", text, answer.latency_ms)

    def messages(self, question: str, passages: list[Passage]) -> list[BaseMessage]:
        """System rules, one worked example, then the question with its passages as DATA blocks."""
        example = self._example
        example_passages = [_example_passage(i, text) for i, text in enumerate(example["passages"], start=1)]
        return [
            SystemMessage(self._system),
            HumanMessage(self._render(example["question"], example_passages)),
            AIMessage(json.dumps(example["reply"], ensure_ascii=False)),
            HumanMessage(self._render(question, passages)),
        ]

    def _render(self, question: str, passages: list[Passage]) -> str:
        blocks = "\n\n".join(_block(n, p) for n, p in enumerate(passages, start=1))
        return self._user.substitute(question=" ".join(question.split()), passages=blocks)


def _block(n: int, passage: Passage) -> str:
    source = " | ".join(
        part for part in (passage.title, passage.version and f"version {passage.version}", passage.section) if part
    )
    text = _MARKER.sub("(passage", passage.text[:MAX_PASSAGE_CHARS].strip())
    source = _MARKER.sub("(passage", " ".join(source.split()))
    return f"[PASSAGE {n}] ({source})\n{text}\n[END PASSAGE {n}]"


def _example_passage(n: int, text: str) -> Passage:
    return Passage(
        chunk_id=f"example-{n}",
        study="EXAMPLE",
        doc="example.md",
        title="Example protocol",
        version="1.0",
        section="",
        page=None,
        text=text,
    )


def _redactor(secret: str) -> Callable[[str], str]:
    """Blank out the secret wherever it appears (kept as a closure so no attribute holds the key)."""
    return lambda text: text.replace(secret, "***") if secret and secret != LOCAL_API_KEY else text


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
