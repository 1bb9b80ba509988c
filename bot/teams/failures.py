"""The one catch-all of the Teams bot: log once (never the message text) and tell the user.

Every handler body runs inside `guarded`, whose failure path always tries to put an apology in
front of the user: a bot that goes silent is the failure users remember.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

log = logging.getLogger("siteline.bot.teams")


def describe(exc: BaseException) -> str:
    """Exception type (and an HTTP status when there is one); the message may quote user text, so it is left out."""
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    return f"{type(exc).__name__} {status}" if isinstance(status, int) else type(exc).__name__


def log_failure(what: str, ref: str | None, exc: BaseException) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("teams %s failed (ref %s): %s\n%s", what, ref or "-", describe(exc), frames)


@asynccontextmanager
async def guarded(what: str, ref: str | None, apologize: Callable[[], Awaitable[object]]) -> AsyncIterator[None]:
    """Run a handler body; on any error log it once and await `apologize` (whose own failure is logged too)."""
    try:
        yield
    except Exception as exc:
        log_failure(what, ref, exc)
        try:
            await apologize()
        except Exception as again:
            log.error("teams %s: the apology could not be sent either (ref %s): %s", what, ref or "-", describe(again))
