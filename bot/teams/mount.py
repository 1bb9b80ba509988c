"""Put the Teams bot on `siteline serve`: `POST /api/messages` (the Azure Bot's messaging endpoint).

On with Teams app credentials (JWTs validated by the SDK: a missing or bad token is 401), or in
the explicit anonymous local mode (SITELINE_TEAMS_ANONYMOUS=1, no credentials), which is logged
as a warning at start-up. Off otherwise.

A question is acknowledged at once (202) and answered in the background, as Teams expects a
reply to its POST within seconds; card clicks (`invoke`) are answered in the response itself.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from microsoft_agents.activity import Activity
from pydantic import ValidationError

from bot.http_body import BodyTooLarge, read_capped
from bot.teams.agent import build_agent
from bot.teams.auth import ANONYMOUS_WARNING, TeamsConfigError, build_auth, inbound_identity
from bot.teams.runtime import TeamsRuntime

if TYPE_CHECKING:
    from siteline.container import Container

log = logging.getLogger("siteline.bot.teams")


def mount(app: FastAPI, container: Container) -> None:
    try:
        auth = build_auth(container.settings)
    except TeamsConfigError as exc:
        log.error("teams: %s. Teams is off.", exc)
        return
    if auth is None:
        return
    if auth.anonymous:
        log.warning(ANONYMOUS_WARNING)
    rt = TeamsRuntime(container)
    agent, adapter = build_agent(rt, auth)
    app.state.teams_agent = agent

    @app.post("/api/messages", include_in_schema=False)
    async def teams_messages(request: Request) -> Response:
        """Activities from the Bot Framework connector (Teams): a capped read, authenticated
        (the bearer token, a header), then parsed."""
        try:
            raw = await read_capped(request)  # kept on the request: the adapter reads it again
        except BodyTooLarge:
            return Response(status_code=413, content="payload too large")
        claims = await inbound_identity(request.headers.get("Authorization"), auth.configuration)
        if claims is None:
            return JSONResponse({"error": "missing or invalid bearer token"}, status_code=401)
        request.state.claims_identity = claims  # where the SDK's CloudAdapter looks for the caller
        try:
            activity = Activity.model_validate(json.loads(raw))
        except (ValueError, ValidationError):
            return JSONResponse({"error": "the body is not a Bot Framework Activity (JSON)"}, status_code=400)
        if not activity.type or not activity.conversation or not activity.conversation.id:
            return JSONResponse({"error": "an Activity needs type and conversation.id"}, status_code=400)
        if activity.type == "message" and activity.value is None:
            rt.background(adapter.process(request, agent), "answer")
            return Response(status_code=202)
        response = await adapter.process(request, agent)
        return response if response is not None else Response(status_code=202)

    mode = "anonymous local mode" if auth.anonymous else f"app {auth.app_id}"
    log.info("teams: activities at POST /api/messages (%s)", mode)
