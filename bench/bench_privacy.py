"""PHI guard speed: load time and per-message latency on chat-length messages.

    python -m bench               # every bench, this one included
    python -m bench.bench_privacy # this one alone

Messages are the annotated synthetic set (tests/data/phi_cases.jsonl, 20-130 characters, the length of
a chat message), run REPEAT times after one warm-up pass. Prints p50/p95/max in milliseconds.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "phi_cases.jsonl"
REPEAT = 5


def _messages() -> list[str]:
    return [json.loads(line)["text"] for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> dict[str, float]:
    started = time.perf_counter()
    from privacy import PhiGuard

    guard = PhiGuard()
    load_s = time.perf_counter() - started

    messages = _messages()
    for text in messages:  # warm-up: first calls compile lazily-built regexes
        guard.redact(text)
    timings = []
    for _ in range(REPEAT):
        for text in messages:
            t0 = time.perf_counter()
            guard.redact(text)
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    result = {
        "load_s": round(load_s, 2),
        "messages": len(timings),
        "mean_chars": round(statistics.mean(len(t) for t in messages), 1),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
        "max_ms": round(timings[-1], 2),
    }
    print(
        f"privacy: PhiGuard load {result['load_s']} s; {result['messages']} redactions of chat messages "
        f"(mean {result['mean_chars']} chars): p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
        f"max {result['max_ms']} ms"
    )
    return result


if __name__ == "__main__":
    main()
