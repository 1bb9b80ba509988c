"""Refuse a NUL byte (U+0000) in any text the JSON API is given: 422 naming the field (and a body
over MAX_BODY: 413, before it is read on, as this runs before the token is checked).

PostgreSQL text columns cannot hold NUL, and SQLite would store a string that other tools cut
short, so no such text is ever let in. This runs as ASGI middleware, before the routes, so one
check covers every endpoint's path, query and JSON body (keys too), and the request never gets
near the database (a failed statement would have reset the client's keep-alive connection).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.strings import NUL_MESSAGE

NUL = "\x00"
MAX_BODY = 2_000_000  # bytes; the largest API body (a routing policy) is far below, and this runs before auth
CHAT_ENDPOINTS = ("/api/messages",)  # Teams activities: signed by the platform, handled by bot/


class RefuseNulBytes:
    """422 `{"detail": [{"loc": [...], "msg": ..., "type": "value_error"}]}` for the first NUL found."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefix) or path in CHAT_ENDPOINTS:
            await self.app(scope, receive, send)
            return
        loc = _in_url(path, scope.get("raw_path"), scope.get("query_string", b""))
        if loc is None:
            try:
                body, receive = await _buffered(receive, scope)
            except BodyTooLarge:
                await JSONResponse({"detail": f"the body is over {MAX_BODY} bytes"}, status_code=413)(
                    scope, receive, send
                )
                return
            loc = _in_body(body)
        if loc is None:
            await self.app(scope, receive, send)
            return
        problem = {"loc": loc, "msg": NUL_MESSAGE, "type": "value_error"}
        await JSONResponse({"detail": [problem]}, status_code=422)(scope, receive, send)


def _in_url(path: str, raw_path: bytes | None, query: bytes) -> list[Any] | None:
    if NUL in path or (raw_path and NUL in unquote(raw_path.decode("latin-1"))):
        return ["path"]
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if NUL in name or NUL in value:
            return ["query", name]
    return None


def _in_body(body: bytes) -> list[Any] | None:
    if NUL.encode() not in body and b"\\u0000" not in body:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None  # not JSON: the route's own validation answers 422 for it
    return next(_nul_paths(document, ["body"]), None)


def _nul_paths(node: Any, at: list[Any]) -> Iterator[list[Any]]:
    if isinstance(node, str):
        if NUL in node:
            yield at
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from ([[*at, key]] if NUL in key else _nul_paths(value, [*at, key]))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nul_paths(value, [*at, i])


class BodyTooLarge(Exception):
    pass


async def _buffered(receive: Receive, scope: Scope) -> tuple[bytes, Receive]:
    """The whole body (BodyTooLarge past MAX_BODY, before reading on), and a `receive` that hands it
    on to the app unchanged."""
    declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
    if not declared.isdigit() or int(declared) > MAX_BODY:
        raise BodyTooLarge
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", receive  # the client went away: let the app see it
        parts.append(message.get("body", b""))
        size += len(parts[-1])
        if size > MAX_BODY:
            raise BodyTooLarge
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
