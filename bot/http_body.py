"""Read a chat platform's request body with a hard cap, before anyone has checked who sent it.

Slack and Teams payloads are a few KB. An unauthenticated caller must not make the server buffer
megabytes (a declared Content-Length is checked first; a chunked body is counted as it streams in
and dropped the moment it passes the cap), so both endpoints read their body only through here.
"""

from __future__ import annotations

from starlette.requests import Request

MAX_BODY = 1_000_000  # bytes; the largest real Slack/Teams payloads are far below this


class BodyTooLarge(Exception):
    """The body is over the cap (answer 413 without reading the rest)."""


async def read_capped(request: Request, limit: int = MAX_BODY) -> bytes:
    """The whole body, or BodyTooLarge as soon as it is known to pass `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        parts.append(chunk)
    body = b"".join(parts)
    request._body = body  # Starlette's cache: later request.body()/json() (the Teams SDK) read this copy
    return body
