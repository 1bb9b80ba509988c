"""Big digests for the split-message tests (issue 10 item 12): `n` items with realistic bodies and reasons,
each title unique and findable (`Title 007 …`), so a test can check each appears exactly once."""

from __future__ import annotations

import re
from typing import Any

SIZES = (16, 40, 120)
TITLE = re.compile(r"Title \d{3} ·")


def digest_payload(n: int) -> dict[str, Any]:
    prios = ("action", "fyi", "urgent")
    reason = (
        "no date or action is asked of the site; batched into the digest as information for the study team "
        "and the pharmacy"
    )
    items = [{"id": f"d{i}", "priority": prios[i % 3], "reason": f"{reason} ({i})", "merged": [f"r{i}"]}
             for i in range(n)]  # fmt: skip
    details = {
        f"d{i}": {"subject": f"Title {i:03d} · Protocol amendment 4: updated visit windows and lab manual v2.1",
                  "study": "ORION", "from": "sponsor.ops",
                  "body": f"Body of item {i}. " + "The lab manual section changes as described. " * 14}
        for i in range(n)
    }  # fmt: skip
    for i in range(n):  # a due date, and a merged reminder (named by its own subject, not an item title)
        details[f"d{i}"]["due"] = "2026-03-20"
        details[f"r{i}"] = {"subject": f"Reminder {i}: amendment 4 visit windows"}
    return {"items": items, "details": details, "site_name": "Berlin Heart Centre"}


def titles_in(texts: list[str]) -> list[str]:
    """Every item title found in the given message texts (one entry per occurrence)."""
    return [m.group(0) for t in texts for m in TITLE.finditer(t)]


def expected(n: int) -> list[str]:
    return [f"Title {i:03d} ·" for i in range(n)]
