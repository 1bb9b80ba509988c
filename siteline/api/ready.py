"""`GET /readyz`: whether this replica should get traffic (the load balancer's and compose's probe).

`/healthz` says the process is alive; `/readyz` says its dependencies are: the database answers,
its schema is at this code's head, the Chroma server (when one is configured) answers, and the
scheduler runs when this replica is meant to run it. 503 lists what is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from knowledge.vector_index import server_problem
from siteline.database import current_revision, head_revision

if TYPE_CHECKING:
    from fastapi import FastAPI

router = APIRouter()


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    app: FastAPI = request.app
    container = app.state.container
    checks: dict[str, str] = {}
    reasons: list[str] = []
    try:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current, head = current_revision(container.engine), head_revision()
        checks["schema"] = current or "empty"
        if current != head:
            reasons.append(f"schema at {current or 'empty'}, this code needs {head} (run `siteline db upgrade`)")
    except Exception as exc:
        checks["database"] = "unreachable"
        reasons.append(f"database did not answer ({type(exc).__name__})")
    problem = server_problem(container.settings)
    checks["chroma"] = "embedded" if not container.settings.chroma_host else ("ok" if problem is None else "down")
    if problem:
        reasons.append(problem)
    checks["scheduler"] = _scheduler_state(app, reasons)
    if reasons:
        return JSONResponse({"status": "not ready", "reasons": reasons, "checks": checks}, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})


def _scheduler_state(app: FastAPI, reasons: list[str]) -> str:
    if not app.state.container.settings.run_scheduler:
        return "off"
    live = getattr(app.state, "scheduler", None)
    if live is None or not live.running:
        reasons.append("the scheduler is not running (SITELINE_RUN_SCHEDULER is on)")
        return "stopped"
    return "leader" if live.lock.held else "follower"
