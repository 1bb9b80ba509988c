"""Which of the project's modules a user journey passes through, measured, not drawn.

Runs end-to-end tests (one per journey) under a profiler that records every project source file a
function of which is called while the test body runs (fixture set-up excluded; test code and
`__init__` files not counted), and prints them per journey. Run it in any checkout to compare
layouts before and after a change (docs/architecture.md has the figures):

    python scripts/journey_modules.py            # the three journeys below, SQLite
    python scripts/journey_modules.py --json     # the module lists as JSON
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

ROOT = Path.cwd().resolve()
JOURNEYS = {
    "mention → cited answer": "tests/test_slack_events.py::"
    "test_a_mention_is_answered_in_its_thread_with_citations_and_buttons[sqlite]",
    "update → immediate or digest": "tests/test_slack_triage_notify.py::"
    "test_urgent_update_preview_confirm_and_delivered_to_the_site_channel_at_once[sqlite]",
    "escalation → timeout → next level": "tests/test_slack_escalation_flow.py::"
    "test_unacknowledged_goes_to_level_2_after_the_time_limit[sqlite]",
}
SKIP_PARTS = {"tests", ".venv", "scripts"}


class Recorder:
    """A pytest plugin: profiles every thread, records project files only while a test body runs."""

    def __init__(self) -> None:
        self.on = False
        self.seen: dict[str, set[str]] = {}
        self.current: set[str] = set()

    def profile(self, frame: FrameType, event: str, _arg: Any) -> None:
        if self.on and event == "call":
            self.current.add(frame.f_code.co_filename)

    def pytest_configure(self) -> None:
        threading.setprofile(self.profile)
        sys.setprofile(self.profile)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        self.current = set()
        self.on = True
        yield
        self.on = False
        self.seen[item.nodeid] = {m for m in map(module_of, self.current) if m}


def module_of(filename: str) -> str | None:
    path = Path(filename).resolve()
    try:
        rel = path.relative_to(ROOT)
    except ValueError:
        return None
    if rel.suffix != ".py" or rel.name == "__init__.py" or SKIP_PARTS & set(rel.parts):
        return None
    return ".".join(rel.with_suffix("").parts)


def main(argv: list[str]) -> int:
    recorder = Recorder()
    code = pytest.main(["-q", "-p", "no:cacheprovider", *JOURNEYS.values()], plugins=[recorder])
    found = {name: sorted(recorder.seen.get(test, set())) for name, test in JOURNEYS.items()}
    if "--json" in argv:
        print(json.dumps(found, indent=1))
    else:
        for name, modules in found.items():
            packages: dict[str, int] = {}
            for m in modules:
                packages[m.split(".")[0]] = packages.get(m.split(".")[0], 0) + 1
            shown = ", ".join(f"{p} {n}" for p, n in sorted(packages.items()))
            print(f"{name}: {len(modules)} modules ({shown})")
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
