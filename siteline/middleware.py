"""Per-request bookkeeping for `serve`: the request id, the latency histogram and the request log line.

A plain ASGI middleware (not Starlette's BaseHTTPMiddleware, which buffers and costs a thread
hop per request). Latency is recorded per route *template* (`/api/escalations/{escalation_id}`),
rebuilt from the route the router matched, so ids never become label values; requests no route
matched share one `(unmatched)` label.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from core.metrics import REQUEST_SECONDS, REQUESTS
from siteline.logs import REQUEST_ID, request_id_from

log = logging.getLogger("siteline.http")
UNMATCHED = "(unmatched)"
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})  # probes: measured, not logged


def route_template(scope: dict[str, Any]) -> str:
    """The matched route's full template, e.g. `/api/escalations/{escalation_id}`.

    The router leaves the matched route in the scope, but its own path lacks the prefix of the
    router it was included with; the prefix is what the raw path has before the rendered route."""
    route = scope.get("route")
    tail = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not tail:
        return UNMATCHED
    try:
        rendered = tail.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return tail
    path = scope.get("path", "")
    return path[: len(path) - len(rendered)] + tail if path.endswith(rendered) else tail


class RequestMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), None)
        request_id = request_id_from(header)
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "GET")
            REQUEST_SECONDS.labels(method=method, route=route).observe(elapsed)
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            if route not in QUIET_ROUTES:
                ms = round(elapsed * 1000, 1)
                log.info(
                    "%s %s %s %.1fms",
                    method,
                    route,
                    status,
                    ms,
                    extra={"method": method, "route": route, "status": status, "duration_ms": ms},
                )
            REQUEST_ID.reset(token)
