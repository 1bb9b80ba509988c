"""Process logging: plain text for people, or one JSON object a line (`SITELINE_LOG_FORMAT=json`).

Every record carries the id of the HTTP request it was written under (`X-Request-ID`, taken from
the caller when well-formed, else made up, and echoed back). Log calls in Siteline never pass
chat message text or secrets; the formatter adds only the fields named in `_FIELDS`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from core.settings import Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("siteline_request_id", default=None)
_GOOD_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# Extra fields our own log calls may attach (the request line); nothing else reaches the output.
_FIELDS = ("method", "route", "status", "duration_ms")


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is a short plain token, else a fresh one (never echo junk)."""
    if header and _GOOD_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        for name in _FIELDS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = record.exc_info[0].__name__ if record.exc_info[0] else "Exception"
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def configure(settings: Settings) -> None:
    """Route every logger (uvicorn's included) through one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # uvicorn's access line prints the raw path; our own request line (siteline/middleware.py) replaces it.
    logging.getLogger("uvicorn.access").disabled = True
