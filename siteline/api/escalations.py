"""`/api/escalations`: raise, acknowledge, resolve and list escalations; read the path; set the policy.

`POST /api/escalations` takes an `escalation` line of the replay contract without `type`/`at`
(`id` optional: generated when absent). Each request is one transaction: a refused request
stores nothing; a repeated id is 200 (same content) or 409 (other content), even when concurrent.
Engine refusals keep their meaning: 404 unknown, 403 out of scope, 409 state.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from core.db import transaction
from escalation import service
from escalation.lines import ID, AckLine, EscalationLine
from escalation.models import EscalationRow
from escalation.policy import Category, PolicyError, RoutingPolicy, Severity
from siteline import phi
from siteline.api.auth import require_token

router = APIRouter()
EscalationId = Annotated[str, Path(min_length=1, max_length=64)]  # as stored; longer is 422, not a 500 later


class RaiseBody(EscalationLine):
    id: str | None = Field(default=None, min_length=1, max_length=64, pattern=ID)  # type: ignore[assignment]


class ByBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    by: str = Field(min_length=1, max_length=64)


class PolicyBody(BaseModel):
    routing: RoutingPolicy


def _fail(exc: service.EscalationError) -> HTTPException:
    return HTTPException(exc.status, str(exc))


@router.post("/escalations", status_code=201)
def raise_(
    body: RaiseBody, request: Request, response: Response, caller: str = Depends(require_token)
) -> dict[str, Any]:
    """201 when stored; the same id again (even at the same moment, from another client) is 200 with
    the stored escalation when the content matches, 409 when it does not: a client's retry is safe."""
    c = request.app.state.container
    now = c.clock.now()
    body = body.model_copy(update={"summary": phi.redact(body.summary).text.strip()})
    for _ in range(3):
        try:
            with transaction(c.factory) as session:
                esc = service.raise_escalation(
                    session,
                    site=body.site,
                    study=body.study,
                    raised_by=body.raised_by,
                    summary=body.summary,
                    category=body.category,
                    severity=body.severity,
                    now=now,
                    source="api",
                    escalation_id=body.id,
                    settings=c.settings,
                )
                return service.to_view(esc, now)
        except (service.Conflict, IntegrityError) as exc:
            # the id is taken (a unique-key race is the same thing, found one step later)
            with transaction(c.factory) as session:
                stored = session.get(EscalationRow, body.id) if body.id else None
                if stored is None:
                    if isinstance(exc, service.Conflict):
                        raise _fail(exc) from None
                    continue  # a race on some other row: try again
                if not _same(body, stored):
                    raise HTTPException(409, f"id: {body.id!r} already exists with other content") from None
                response.status_code = 200
                return service.to_view(stored, now)
        except service.EscalationError as exc:
            raise _fail(exc) from None
    raise HTTPException(503, "the escalation could not be stored for contention; try again")


def _same(body: RaiseBody, stored: EscalationRow) -> bool:
    """Whether a repeated raise says what the stored one says (inferred fields are not compared)."""
    return (
        (body.site, body.study, body.raised_by, body.summary)
        == (stored.site, stored.study, stored.raised_by, stored.summary)
        and body.category in (None, stored.category)
        and body.severity in (None, stored.severity)
    )


@router.get("/escalations")
def list_(
    request: Request,
    site: str | None = None,
    study: str | None = None,
    status: str = Query("open", pattern="^(open|all)$"),
    caller: str = Depends(require_token),
) -> dict[str, Any]:
    c = request.app.state.container
    now = c.clock.now()
    with transaction(c.factory) as session:
        if status == "all" and site:
            rows = service.list_for_site(session, site=site, now=now)
            rows = [r for r in rows if not study or r["study"] == study]
        else:
            rows = service.list_open(session, now=now, study=study, site=site)
    return {"escalations": rows}


class PathBody(BaseModel):
    site: str = Field(min_length=1, max_length=64)
    study: str = Field(min_length=1, max_length=64)
    category: Category | None = None
    severity: Severity | None = None
    summary: str | None = Field(default=None, max_length=8000)


FREE_TEXT_IN_QUERY = (
    "free text is not taken in a query string (URLs are logged): "
    "POST /api/escalations/path with the summary in a JSON body"
)


@router.get("/escalations/path")
def path(
    request: Request,
    site: str = Query(min_length=1, max_length=64),
    study: str = Query(min_length=1, max_length=64),
    category: Category | None = None,
    severity: Severity | None = None,
    summary: str | None = Query(None, include_in_schema=False),
    caller: str = Depends(require_token),
) -> dict[str, Any]:
    """The path for the structured parameters; a summary to infer from goes in `POST .../path`."""
    if summary is not None:
        raise HTTPException(422, [{"loc": ["query", "summary"], "msg": FREE_TEXT_IN_QUERY, "type": "value_error"}])
    return _path(request, PathBody(site=site, study=study, category=category, severity=severity))


@router.post("/escalations/path")
def path_for(body: PathBody, request: Request, caller: str = Depends(require_token)) -> dict[str, Any]:
    """The path an issue would climb; category and severity inferred from the (redacted) summary when not given."""
    if body.summary is not None:
        body = body.model_copy(update={"summary": phi.redact(body.summary).text})
    return _path(request, body)


def _path(request: Request, body: PathBody) -> dict[str, Any]:
    c = request.app.state.container
    try:
        with transaction(c.factory) as session:
            return service.describe_path(
                session,
                site=body.site,
                study=body.study,
                category=body.category,
                severity=body.severity,
                summary=body.summary,
                now=c.clock.now(),
                settings=c.settings,
            )
    except service.EscalationError as exc:
        raise _fail(exc) from None


@router.put("/escalations/policy")
def put_policy(body: PolicyBody, request: Request, caller: str = Depends(require_token)) -> dict[str, Any]:
    c = request.app.state.container
    try:
        with transaction(c.factory) as session:
            version, policy = service.store_policy(
                session, routing=body.routing.as_json(), source="api", by=caller, now=c.clock.now()
            )
    except PolicyError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"version": version, "routing": policy.as_json()}


@router.get("/escalations/policy")
def get_policy(request: Request, caller: str = Depends(require_token)) -> dict[str, Any]:
    c = request.app.state.container
    with transaction(c.factory) as session:
        version, policy = service.current_policy(session, c.settings)
    return {"version": version, "routing": policy.as_json()}


@router.get("/escalations/{escalation_id}")
def get_one(escalation_id: EscalationId, request: Request, caller: str = Depends(require_token)) -> dict[str, Any]:
    c = request.app.state.container
    try:
        with transaction(c.factory) as session:
            esc = service.get(session, escalation_id)
            return {**service.to_view(esc, c.clock.now()), "history": service.history(session, escalation_id=esc.id)}
    except service.EscalationError as exc:
        raise _fail(exc) from None


@router.post("/escalations/{escalation_id}/ack")
def ack(
    escalation_id: EscalationId, body: ByBody, request: Request, caller: str = Depends(require_token)
) -> dict[str, Any]:
    return _respond(request, service.ack, AckLine(escalation=escalation_id, by=body.by))


@router.post("/escalations/{escalation_id}/resolve")
def resolve(
    escalation_id: EscalationId, body: ByBody, request: Request, caller: str = Depends(require_token)
) -> dict[str, Any]:
    return _respond(request, service.resolve, AckLine(escalation=escalation_id, by=body.by))


def _respond(request: Request, action: Any, line: AckLine) -> dict[str, Any]:
    c = request.app.state.container
    now = c.clock.now()
    try:
        with transaction(c.factory) as session:
            esc = action(session, escalation_id=line.escalation, by=line.by, now=now)
            return service.to_view(esc, now)
    except service.EscalationError as exc:
        raise _fail(exc) from None
