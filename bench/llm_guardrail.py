"""How often the citation guardrail accepts a real model's answers, and how long each answer takes.

    .venv/bin/python -m bench.llm_guardrail [--threads N]       # starts llama.cpp on SmolLM2-135M itself
    .venv/bin/python -m bench.llm_guardrail --base-url URL --model NAME [--api-key-env VAR]

Each of ten questions is asked with three passages: the one that answers it and two others.
Prints one line per question (outcome, latency) and a summary; the raw replies go to --replies.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from core.settings import Settings
from knowledge.llm import LlmAnswerer
from knowledge.types import Passage

SECTIONS = [
    ("8.3 Serious Adverse Events", "All serious adverse events must be reported to the sponsor within 24 hours of the "
     "site becoming aware of the event, using the SAE form in the EDC."),
    ("6.1 Dosing", "Participants receive 50 mg of study drug orally once daily with food."),
    ("5.2 Exclusion criteria", "Patients with an eGFR below 30 mL/min are excluded from the study."),
    ("4.1 Visit schedule", "After screening, study visits occur every 4 weeks until week 48."),
    ("9.2 Drug storage", "Store the study drug at 2 to 8 degrees Celsius in its original carton, protected from "
     "light."),
    ("7.4 Pregnancy testing", "Women of childbearing potential have a serum pregnancy test at screening and a urine "
     "pregnancy test at every visit."),
    ("5.1 Inclusion criteria", "Participants must be at least 18 years old and have a confirmed diagnosis of type 2 "
     "diabetes for at least 6 months."),
    ("10.1 Missed doses", "A missed dose may be taken within 12 hours of the scheduled time; otherwise it is skipped."),
    ("11.2 Laboratory samples", "Fasting blood samples are collected at screening, week 12 and week 48 and shipped "
     "frozen to the central laboratory."),
    ("12.1 Informed consent", "Written informed consent must be obtained before any study-specific procedure is "
     "performed."),
]  # fmt: skip
QUESTIONS = [
    "How soon must a serious adverse event be reported?",
    "What dose of study drug do participants take?",
    "Which kidney function excludes a patient?",
    "How often are study visits after screening?",
    "At what temperature is the study drug stored?",
    "When are pregnancy tests done?",
    "How old must participants be?",
    "What should a participant do after a missed dose?",
    "When are fasting blood samples collected?",
    "When must informed consent be obtained?",
]


def passages_for(i: int) -> list[Passage]:
    """The answering section, placed first, second or third in turn, among two others."""
    picks = [(i + 3) % len(SECTIONS), (i + 7) % len(SECTIONS)]
    picks.insert(i % 3, i)
    return [
        Passage(f"c{n}", "ABC-123", "protocol.pdf", "ABC-123 Protocol", "3.0", SECTIONS[n][0], None, SECTIONS[n][1])
        for n in picks
    ]


def run(settings: Settings, max_tokens: int, replies_path: Path) -> None:
    answerer = LlmAnswerer(settings, max_tokens=max_tokens)
    outcomes, latencies, replies = [], [], []
    for i, question in enumerate(QUESTIONS):
        outcome = answerer.attempt(question, passages_for(i))
        outcomes.append(outcome.reason)
        latencies.append(outcome.latency_ms)
        replies.append({"question": question, "reason": outcome.reason, "reply": outcome.reply})
        print(f"{outcome.latency_ms:6d} ms  {outcome.reason[:100]:100s}  {question}")
    replies_path.write_text("\n".join(json.dumps(r) for r in replies) + "\n")
    accepted = sum(r == "accepted" for r in outcomes)
    abstained = sum(r == "abstained" for r in outcomes)
    print(
        f"\naccepted {accepted}/{len(outcomes)}, abstained {abstained}, rejected or failed "
        f"{len(outcomes) - accepted - abstained}; latency median {statistics.median(latencies):.0f} ms, "
        f"max {max(latencies)} ms; replies in {replies_path}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="an OpenAI-compatible /v1 URL (default: start llama.cpp on SmolLM2)")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the key")
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads for the server started here")
    parser.add_argument("--replies", type=Path, default=Path(tempfile.gettempdir()) / "llm_guardrail_replies.jsonl")
    args = parser.parse_args()
    with ExitStack() as stack:
        base_url = args.base_url
        if base_url is None:
            from tests.llm_server import llama_server_process, llama_unavailable_reason

            reason = llama_unavailable_reason()
            if reason:
                raise SystemExit(reason)
            log = Path(tempfile.gettempdir()) / "llm_guardrail_server.log"
            base_url = stack.enter_context(llama_server_process(log, threads=args.threads))
        settings = Settings(
            OPENAI_BASE_URL=base_url,
            OPENAI_API_KEY=os.environ.get(args.api_key_env),
            SITELINE_LLM_MODEL=args.model,
            _env_file=None,
        )
        run(settings, args.max_tokens, args.replies)


if __name__ == "__main__":
    main()
