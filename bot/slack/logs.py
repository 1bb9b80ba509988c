"""Keep message text out of the logs, whatever SITELINE_LOG_LEVEL says.

bolt logs a refused request's whole body (message text, maybe identifiers) at INFO, and bolt and
slack_sdk trace payloads at DEBUG. bolt is given its own base logger (INFO, with a filter that
drops those records) and slack_sdk is held at INFO. Refusals are logged by our route, without
the body.
"""

from __future__ import annotations

import logging

# Records that carry a request body, or that say something expected as if it were a problem.
_DROPPED = (
    "Invalid request signature detected",  # body included; the route logs the refusal instead
    "As you gave `client` as well",  # the token reaches bolt through `authorize`, on purpose
)


class NoPayloads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG and not str(record.msg).startswith(_DROPPED)


def bolt_logger() -> logging.Logger:
    """The base logger for bolt (it copies level and filters to every logger it makes)."""
    logger = logging.getLogger("siteline.bot.slack.bolt")
    logger.setLevel(logging.INFO)
    if not any(isinstance(f, NoPayloads) for f in logger.filters):
        logger.addFilter(NoPayloads())
    return logger


def quiet_sdk() -> None:
    """slack_sdk logs request and Socket Mode payloads at DEBUG."""
    logger = logging.getLogger("slack_sdk")
    logger.setLevel(max(logging.INFO, logger.getEffectiveLevel()))
