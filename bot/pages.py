"""Splitting a long message into parts that each fit a chat platform's budget, losing nothing.

A digest of many updates is too big for one Slack message (50 blocks, ~13k characters of block
text) or one Teams card (~28 KB). Each platform renders every item as a unit of blocks or card
elements; `paginate` packs units in order into as few parts as the budget allows (a unit is never
split, nor dropped), and `split` tries the full form first and a compact one when the full form
would need more than `MAX_PARTS` messages. The parts are sent in order as "(1/3)", "(2/3)", … and
the outbox remembers how many went out (`core.notify.PARTS_SENT`), so a retry never repeats one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

E = TypeVar("E")

MAX_PARTS = 3  # above this many messages, a digest switches to its compact form (still never loses items)


def paginate(
    units: Sequence[Sequence[E]], *, weigh: Callable[[E], int], budget: int, max_elements: int
) -> list[list[E]]:
    """Pack `units` (each a run of elements that stay together) in order into parts of at most
    `budget` weight and `max_elements` elements; a unit that alone exceeds them gets a part of its own."""
    parts: list[list[E]] = []
    part: list[E] = []
    weight = 0
    for unit in units:
        w = sum(weigh(e) for e in unit)
        if part and (weight + w > budget or len(part) + len(unit) > max_elements):
            parts.append(part)
            part, weight = [], 0
        part.extend(unit)
        weight += w
    if part or not parts:
        parts.append(part)
    return parts


def split(
    full: Sequence[Sequence[E]],
    compact: Callable[[], Sequence[Sequence[E]]],
    *,
    weigh: Callable[[E], int],
    budget: int,
    max_elements: int,
) -> list[list[E]]:
    """The full form in as few parts as fit; the compact form when the full one needs over MAX_PARTS."""
    parts = paginate(full, weigh=weigh, budget=budget, max_elements=max_elements)
    if len(parts) > MAX_PARTS:
        parts = paginate(compact(), weigh=weigh, budget=budget, max_elements=max_elements)
    return parts


def label(k: int, n: int) -> str:
    """` (2/3)` for a part of a split message, nothing for a whole one."""
    return f" ({k}/{n})" if n > 1 else ""
