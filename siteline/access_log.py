"""Access log lines name the path, never the query string (a query can carry free text: a summary,
a name) nor a dashboard sign-in token: log files are kept, copied and read by people who must not
see PHI or use a link. `serve` turns uvicorn's access log off and logs route templates itself
(siteline/middleware.py); these filters cover uvicorn run any other way."""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class PathOnly(logging.Filter):
    """Drops the query string from uvicorn's access records: (client, method, path?query, http, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


class HideSignInTokens(logging.Filter):
    """The access log would otherwise keep every sign-in URL, a still-usable link until it is followed."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, str) and LOGIN_PATH in a for a in args):
            record.args = tuple(_hide_token(a) if isinstance(a, str) else a for a in args)
        return True


LOGIN_PATH = "/dashboard/login/"


def _hide_token(text: str) -> str:
    head, sep, tail = text.partition(LOGIN_PATH)
    if not sep:
        return text
    rest = tail.split("?", 1)[0].split(" ", 1)
    return f"{head}{LOGIN_PATH}…" + (f" {rest[1]}" if len(rest) > 1 else "")


def install() -> None:
    """Idempotent; called when the app is built and again at start-up (after uvicorn configures logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    for kind in (PathOnly, HideSignInTokens):
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
