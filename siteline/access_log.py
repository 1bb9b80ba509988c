"""Access log lines name the path, never the query string (a query can carry free text: a summary,
a name) nor the token of a one-time link (dashboard sign-in, e-mail acknowledge): log files are kept,
copied and read by people who must not see PHI or use a link. `serve` turns uvicorn's access log off
and logs route templates itself (siteline/middleware.py); these filters cover uvicorn run any other way."""

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


class HideLinkTokens(logging.Filter):
    """The access log would otherwise keep every one-time link's URL, usable until it is followed."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, str) and _secret_path(a) for a in args):
            record.args = tuple(_hide_token(a) if isinstance(a, str) else a for a in args)
        return True


LINK_PATHS = ("/dashboard/login/", "/ack/")  # a dashboard sign-in link; an e-mail's acknowledge link


def _secret_path(text: str) -> str | None:
    return next((p for p in LINK_PATHS if p in text), None)


def _hide_token(text: str) -> str:
    path = _secret_path(text)
    if path is None:
        return text
    head, _, tail = text.partition(path)
    rest = tail.split("?", 1)[0].split(" ", 1)
    return f"{head}{path}…" + (f" {rest[1]}" if len(rest) > 1 else "")


def install() -> None:
    """Idempotent; called when the app is built and again at start-up (after uvicorn configures logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    for kind in (PathOnly, HideLinkTokens):
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
