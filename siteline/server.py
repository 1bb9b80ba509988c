"""`siteline serve`: one ASGI app for health, readiness, metrics, the JSON API, Slack and Teams.

Each surface mounts itself; the scheduler (timers and delivery) starts with the app when
`SITELINE_RUN_SCHEDULER` is on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from knowledge.vector_index import VectorStoreUnavailable
from siteline import access_log
from siteline.api import validation
from siteline.api.body_deadline import BodyDeadline
from siteline.api.dashboard_guard import DashboardGuard
from siteline.api.nul_bytes import RefuseNulBytes
from siteline.container import Container
from siteline.middleware import RequestMiddleware

log = logging.getLogger("siteline.server")


def create_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        access_log.install()
        stoppers = [start() for start in app.state.on_start]
        try:
            yield
        finally:
            for stop in stoppers:
                if stop:
                    stop()

    docs = container.settings.api_docs  # /docs and /openapi.json map the API: only when asked for
    app = FastAPI(
        title="Siteline",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.add_middleware(RequestMiddleware)
    app.state.container = container
    app.add_middleware(RefuseNulBytes)
    app.add_middleware(DashboardGuard, public_url=container.settings.public_url)
    app.add_middleware(BodyDeadline)  # outermost: a body that never arrives holds no route
    app.add_exception_handler(RequestValidationError, validation.unprocessable)
    app.add_exception_handler(StarletteHTTPException, validation.http_error)
    access_log.install()

    @app.exception_handler(VectorStoreUnavailable)
    async def vector_store_down(_request: Request, exc: VectorStoreUnavailable) -> JSONResponse:
        """The Chroma server is down: say so (503, retry later) rather than a bare 500."""
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    app.state.on_start = []
    # The process's one assistant, triage service and notifier, built now: a misconfigured channel
    # fails at start, not at its first delivery (their models still load on first use).
    _ = (container.assistant, container.triage, container.notifier)

    @app.get("/healthz")
    def healthz() -> dict[str, object]:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        s = container.settings
        return {
            "status": "ok",
            "database": container.engine.dialect.name,
            "slack": s.slack_enabled,
            "teams": s.teams_enabled,
            "email": s.email_enabled,
            "llm": s.llm_enabled,
        }

    from bot.channels import mount_all
    from scheduler import live
    from siteline.api import ask, dashboard, escalations, metrics, ready, stats, updates

    app.include_router(ready.router)
    metrics.mount(app, container)
    for api in (ask, updates, escalations, stats):
        app.include_router(api.router, prefix="/api")
    mount_all(app, container)  # each chat channel's inbound routes (off while it is not configured)
    live.mount(app, container)
    dashboard.mount(app, container)
    return app
