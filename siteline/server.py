"""`siteline serve`: one ASGI app for health, the JSON API, Slack and Teams.

Each surface mounts itself; the scheduler (timers and delivery) starts with the app when
`SITELINE_RUN_SCHEDULER` is on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from siteline.container import Container

log = logging.getLogger("siteline.server")


def create_app(container: Container) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stoppers = [start() for start in app.state.on_start]
        try:
            yield
        finally:
            for stop in stoppers:
                if stop:
                    stop()

    app = FastAPI(title="Siteline", version="0.1.0", lifespan=lifespan)
    app.state.container = container
    app.state.on_start = []

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
            "llm": s.llm_enabled,
        }

    from siteline.api import ask

    app.include_router(ask.router, prefix="/api")
    _mount_optional(app, container)
    return app


def _mount_optional(app: FastAPI, container: Container) -> None:
    """Surfaces built by later work register here; each is skipped cleanly until it exists."""
    import importlib

    for module_name in ("siteline.api.updates", "siteline.api.escalations", "siteline.api.stats"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        app.include_router(module.router, prefix="/api")
    for module_name in ("bot.slack.mount", "bot.teams.mount", "scheduler.live", "siteline.api.dashboard"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        module.mount(app, container)
