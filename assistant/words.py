"""The words of chat commands, read the same on every channel: `escalation-path S01 safety urgent`,
`digest 08:30,16:00 quiet 19:00-07:00`. Messages are plain text; each channel escapes them for its markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from escalation.messages import CATEGORY_LABELS
from escalation.policy import CATEGORIES, SEVERITIES

if TYPE_CHECKING:
    from assistant.scope import Where

ALIASES = {
    "ip": "ip_supply", "supply": "ip_supply", "drug": "ip_supply", "shipment": "ip_supply", "kits": "ip_supply",
    "contract": "contract_budget", "budget": "contract_budget", "payment": "contract_budget",
    "ethics": "ethics_regulatory", "regulatory": "ethics_regulatory", "irb": "ethics_regulatory",
    "data": "data_queries", "queries": "data_queries", "edc": "data_queries",
    "technology": "technology_access", "access": "technology_access", "it": "technology_access",
    "staff": "staffing", "protocol": "protocol_clarification", "sae": "safety",
}  # fmt: skip


class Unknown(ValueError):
    pass


def parse(args: list[str], places: list[Where]) -> tuple[str | None, str | None, str | None]:
    """(site id, category, severity) from free words; Unknown names a word that is none of them."""
    sites = {p.site.site_id.lower(): p.site.site_id for p in places}
    site = category = severity = None
    for word in args:
        w = word.lower().strip(",.")
        if w in sites:
            site = sites[w]
        elif w in SEVERITIES:
            severity = w
        elif w in CATEGORIES or w in ALIASES:
            category = ALIASES.get(w, w)
        else:
            known = ", ".join(f"{c} ({CATEGORY_LABELS[c]})" for c in CATEGORIES)
            raise Unknown(f"I don't know \u201c{word}\u201d. Categories: {known}. Severities: {', '.join(SEVERITIES)}.")
    return site, category, severity


KEEP = "keep"

_QUIET = re.compile(r"^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$")


class ParseError(ValueError):
    pass


def parse_setting(text: str) -> tuple[list[str] | None, list[str] | str | None]:
    """`08:30,16:00 quiet 19:00-07:00` → (times, or None to keep them; [start, end], None for
    `quiet off`, or KEEP when quiet hours are not mentioned)."""
    words = text.split()
    lowered = [w.lower() for w in words]
    at = lowered.index("quiet") if "quiet" in lowered else len(words)
    times = [t for t in re.split(r"[,\s]+", " ".join(words[:at])) if t] or None
    if at == len(words):
        return times, KEEP
    tail = " ".join(words[at + 1 :])
    if tail.lower() in ("off", "none", "no"):
        return times, None
    found = _QUIET.match(tail)
    if not found:
        shown = repr(tail) if tail else "nothing"
        raise ParseError(f"quiet_hours: {shown} is not HH:MM-HH:MM (e.g. quiet 19:00-07:00, or quiet off)")
    return times, [found.group(1), found.group(2)]


SUMMARY_MIN, SUMMARY_MAX = 10, 2000  # the minimum is checked on submit: a prefilled summary may be shorter
