"""Access log lines name the path, never the query string: a query can carry free text (a summary,
a name), and log files are kept, copied and read by people who must not see PHI."""

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


def install() -> None:
    """Idempotent; called when the app is built and again at start-up (after uvicorn configures logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, PathOnly) for f in logger.filters):
        logger.addFilter(PathOnly())
