"""The one catch-all of the Slack bot: log once (never the message text) and tell the user.

Onyx's bot is remembered for showing 👀 and then saying nothing; here every listener body
runs inside `guarded`, whose failure path always tries to put an apology in front of the user.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError

log = logging.getLogger("siteline.bot.slack")


def describe(exc: BaseException) -> str:
    """Exception type (and Slack's error code); the exception's message may quote user text, so it is left out."""
    if isinstance(exc, SlackApiError):
        return f"SlackApiError {exc.response.get('error') or exc.response.status_code}"
    return type(exc).__name__


def log_failure(what: str, ref: str | None, exc: BaseException) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("slack %s failed (ref %s): %s\n%s", what, ref or "-", describe(exc), frames)


@contextmanager
def guarded(what: str, ref: str | None, apologize: Callable[[], object]) -> Iterator[None]:
    """Run a listener body; on any error log it once and call `apologize` (whose own failure is logged too)."""
    try:
        yield
    except Exception as exc:
        log_failure(what, ref, exc)
        try:
            apologize()
        except Exception as again:
            log.error("slack %s: the apology could not be sent either (ref %s): %s", what, ref or "-", describe(again))


def quietly(what: str, call: Callable[[], object]) -> None:
    """Cosmetic calls (reactions) must never stop an answer; their failure is logged at debug level."""
    try:
        call()
    except (SlackApiError, OSError) as exc:
        log.debug("slack %s skipped: %s", what, describe(exc))
