"""`POST /api/updates`: an outbound sponsor/CRO update, triaged and stored (urgent ones go out at once).

The body is an `update` line of the replay contract without `type`/`at`. 201 with the decision
(priority, reason, per-site outcome) when stored; 200 with the original decision when the id was
already received; 422 naming the field when the body or its sites are wrong, the sender is not in
the directory, or no site is on the study (nothing stored: it would reach no one).
Also `GET`/`PUT /api/sites/{site_id}/preferences`: a site's digest times and quiet hours.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from siteline import phi
from siteline.api.auth import require_token
from triage.audience import UpdateRejected
from triage.schemas import UpdateIn
from triage.service import PreferencesError, SiteNotFound, TriageService

router = APIRouter()


def triage_service(request: Request) -> TriageService:
    """The process's one service (the container's: its policy is loaded once)."""
    return request.app.state.container.triage


def _unprocessable(field: str, message: str) -> HTTPException:
    return HTTPException(422, detail=[{"loc": ["body", field], "msg": message, "type": "value_error"}])


@router.post("/updates", status_code=201)
def post_update(
    body: UpdateIn,
    response: Response,
    request: Request,
    caller: str = Depends(require_token),
    service: TriageService = Depends(triage_service),
) -> dict[str, Any]:
    body = phi.redact_update(body)
    try:
        service.check_origin(body)
        decision = service.submit(body, actor=caller, source="api")
    except UpdateRejected as exc:
        raise _unprocessable(exc.field, exc.message) from None
    if decision.already_received:
        response.status_code = 200
    return decision.to_json()


class PreferencesBody(BaseModel):
    digest_times: list[str] = Field(min_length=1, max_length=12)
    quiet_hours: list[str] | None = Field(default=None, min_length=2, max_length=2)


@router.get("/sites/{site_id}/preferences")
def get_preferences(
    site_id: str, _caller: str = Depends(require_token), service: TriageService = Depends(triage_service)
) -> dict[str, Any]:
    try:
        return service.preferences(site_id).to_json()
    except SiteNotFound as exc:
        raise HTTPException(404, exc.message) from None


@router.put("/sites/{site_id}/preferences")
def put_preferences(
    site_id: str,
    body: PreferencesBody,
    caller: str = Depends(require_token),
    service: TriageService = Depends(triage_service),
) -> dict[str, Any]:
    try:
        prefs = service.set_preferences(
            site_id, digest_times=body.digest_times, quiet_hours=body.quiet_hours, actor=caller
        )
    except SiteNotFound as exc:
        raise HTTPException(404, exc.message) from None
    except PreferencesError as exc:
        raise _unprocessable(exc.field, exc.message) from None
    return prefs.to_json()
