"""The dashboard over HTTP: the pages, and the same numbers as JSON (sign-in: `dashboard_signin.py`).

Pages (`/dashboard...`) redirect to the sign-in page without a live session (none, expired, signed
out or revoked); JSON (`/api/dashboard...`) answers 401 without one or the API bearer token; anything
outside the signed-in person's scope is 403. The figures themselves are computed in the `dashboard`
package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, quote

import numpy as np
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from core.db import transaction
from core.directory import Directory
from dashboard import clusters as clustering
from dashboard import figures, render, sessions
from dashboard.clarify import ClarificationError, publish
from dashboard.oidc import OidcConfig, Provider
from dashboard.scope import NotAllowed, Viewer
from siteline.api.auth import require_token
from siteline.api.dashboard_signin import router as signin_router
from siteline.api.updates import triage_service
from siteline.container import Container

router = APIRouter()
DAYS = Query(30, gt=0, le=366, description="look back this many days")
CLUSTER_DAYS = Query(90, gt=0, le=366, description="questions of the last this many days")


class SignInNeeded(Exception):
    """No valid session (and, for JSON, no bearer token)."""


def _container(request: Request) -> Container:
    return request.app.state.container


def _viewer(request: Request, *, api: bool) -> Viewer:
    """The signed-in viewer; raises SignInNeeded (401 / redirect) or HTTPException 403."""
    c = _container(request)
    if api and request.headers.get("authorization"):
        require_token(request, request.headers["authorization"])  # 401 when wrong
        return Viewer.automation()
    with transaction(c.factory) as session:
        person_id = sessions.person_for(session, request.cookies.get(sessions.COOKIE), now=c.clock.now())
        person = Directory(session).person(person_id) if person_id else None
    if person is None:
        raise SignInNeeded
    try:
        return Viewer.of(person)
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None


def _page_viewer(request: Request) -> Viewer | Response:
    try:
        return _viewer(request, api=False)
    except SignInNeeded:
        return RedirectResponse("/dashboard/login", status_code=303)
    except HTTPException as exc:
        return HTMLResponse(render.refused(exc.status_code, str(exc.detail)), status_code=exc.status_code)


def _api_viewer(request: Request) -> Viewer:
    try:
        return _viewer(request, api=True)
    except SignInNeeded:
        raise HTTPException(401, "sign in first (a dashboard link or single sign-on) or send the API token") from None


# -- the numbers -------------------------------------------------------------------------------


def _overview(request: Request, viewer: Viewer, days: float) -> dict[str, Any]:
    c = _container(request)
    classifier = triage_service(request).engine.classifier
    with transaction(c.factory) as session:
        return figures.overview(session, viewer, now=c.clock.now(), days=days, classifier=classifier)


def _site(request: Request, viewer: Viewer, site_id: str, days: float) -> dict[str, Any]:
    c = _container(request)
    with transaction(c.factory) as session:
        try:
            return figures.site360(session, viewer, site_id, now=c.clock.now(), days=days)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        except NotAllowed as exc:
            raise HTTPException(403, str(exc)) from None


def _clusters(request: Request, viewer: Viewer, days: float) -> list[clustering.Cluster]:
    c = _container(request)

    def embed(texts: Sequence[str]) -> np.ndarray:  # the model loads only when there are questions to cluster
        return c.embeddings.embed(texts)

    with transaction(c.factory) as session:
        return clustering.find(session, viewer, now=c.clock.now(), days=days, embed=embed)


def _clusters_json(found: list[clustering.Cluster], viewer: Viewer) -> dict[str, Any]:
    return {"viewer": viewer.to_json(), "clusters": [cl.to_json() for cl in found]}


def _publish(request: Request, viewer: Viewer, cluster_id: str, subject: str, body: str) -> dict[str, Any]:
    c = _container(request)
    cluster = next((cl for cl in _clusters(request, viewer, 90) if cl.cluster_id == cluster_id), None)
    if cluster is None:
        raise HTTPException(404, f"no cluster {cluster_id!r} in your scope")
    try:
        done = publish(
            cluster=cluster,
            viewer=viewer,
            subject=subject,
            body=body,
            now=c.clock.now(),
            home=c.settings.home,
            knowledge=c.knowledge,
            triage=triage_service(request),
            factory=c.factory,
        )
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None
    except ClarificationError as exc:
        field, _, message = str(exc).partition(": ")
        raise HTTPException(422, [{"loc": ["body", field], "msg": message, "type": "value_error"}]) from None
    return done.to_json()


# -- JSON --------------------------------------------------------------------------------------


@router.get("/api/dashboard/overview")
def api_overview(request: Request, days: float = DAYS) -> dict[str, Any]:
    return _overview(request, _api_viewer(request), days)


@router.get("/api/dashboard/sites/{site_id}")
def api_site(request: Request, site_id: str, days: float = DAYS) -> dict[str, Any]:
    return _site(request, _api_viewer(request), site_id, days)


@router.get("/api/dashboard/clusters")
def api_clusters(request: Request, days: float = CLUSTER_DAYS) -> dict[str, Any]:
    viewer = _api_viewer(request)
    return _clusters_json(_clusters(request, viewer, days), viewer)


class ClarificationBody(BaseModel):
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=8000)


@router.post("/api/dashboard/clusters/{cluster_id}/clarification", status_code=201)
def api_publish(request: Request, cluster_id: str, payload: ClarificationBody) -> dict[str, Any]:
    viewer = _api_viewer(request)
    if viewer.role == "api":
        raise HTTPException(403, "a clarification is published by a signed-in study manager, not the API token")
    return _publish(request, viewer, cluster_id, payload.subject, payload.body)


# -- pages -------------------------------------------------------------------------------------


@router.get("/dashboard", response_class=HTMLResponse)
def page_overview(request: Request, days: float = DAYS) -> Response:
    viewer = _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    return HTMLResponse(render.overview(_overview(request, viewer, days)))


@router.get("/dashboard/sites/{site_id}", response_class=HTMLResponse)
def page_site(request: Request, site_id: str, days: float = DAYS) -> Response:
    viewer = _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    try:
        data = _site(request, viewer, site_id, days)
    except HTTPException as exc:
        return HTMLResponse(render.refused(exc.status_code, str(exc.detail)), status_code=exc.status_code)
    return HTMLResponse(render.site360(data, viewer.to_json()))


@router.get("/dashboard/clusters", response_class=HTMLResponse)
def page_clusters(request: Request, days: float = CLUSTER_DAYS, published: str = "") -> Response:
    viewer = _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    found = _clusters(request, viewer, days)
    publishable = {cl.cluster_id for cl in found if viewer.may_publish(cl.study)}
    notice = (
        f"Clarification published ({published}): sent through triage and added to the documents." if published else ""
    )
    return HTMLResponse(render.clusters(_clusters_json(found, viewer), viewer.to_json(), publishable, notice))


@router.post("/dashboard/clusters/{cluster_id}/clarification", response_class=HTMLResponse)
async def page_publish(request: Request, cluster_id: str) -> Response:
    viewer = _page_viewer(request)
    if isinstance(viewer, Response):
        return viewer
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    subject, body = (form.get("subject") or [""])[0], (form.get("body") or [""])[0]
    try:
        done = _publish(request, viewer, cluster_id, subject, body)
    except HTTPException as exc:
        detail = (
            exc.detail if isinstance(exc.detail, str) else "; ".join(f"{d['loc'][-1]}: {d['msg']}" for d in exc.detail)
        )
        return HTMLResponse(render.refused(exc.status_code, detail), status_code=exc.status_code)
    return RedirectResponse(f"/dashboard/clusters?published={quote(done['update'])}", status_code=303)


def mount(app: FastAPI, container: Container) -> None:
    """Register the dashboard and its sign-in on the app (OIDC only when configured)."""
    config = OidcConfig.from_settings(container.settings)
    app.state.dashboard_oidc = Provider(config) if config else None
    app.include_router(router)
    app.include_router(signin_router)
