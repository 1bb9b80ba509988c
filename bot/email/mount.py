"""Put the acknowledge link on `siteline serve`: `GET /ack/{token}` shows what it would acknowledge
and a button, changing nothing; `POST /ack/{token}` acknowledges, once. Off while e-mail is off.

After the acknowledgement commits, what the engine queued (the site's update, the people already
told) is sent at once, as after a chat button, instead of at the next tick.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from bot.email import acknowledge, page
from core.db import transaction
from core.outbox import send_now

if TYPE_CHECKING:
    from siteline.container import Container

log = logging.getLogger("siteline.bot.email")


def mount(app: FastAPI, container: Container) -> None:
    if not container.settings.email_enabled:
        return

    @app.get("/ack/{token}", include_in_schema=False)
    def show(token: str, request: Request) -> HTMLResponse:
        """What the link would acknowledge, and a button; nothing changes (mail scanners open links)."""
        with transaction(container.factory) as session:
            outcome = acknowledge.confirm_page(session, token=token, now=container.clock.now())
        return _page(outcome, request)

    @app.post("/ack/{token}", include_in_schema=False)
    def confirm(token: str, request: Request) -> HTMLResponse:
        """The button: acknowledge as the link's person, once; then send what that queued."""
        return _acknowledge(container, token, request)

    log.info("email: acknowledge links at /ack/{token}")


def _acknowledge(container: Container, token: str, request: Request) -> HTMLResponse:
    now = container.clock.now()
    client = request.client.host if request.client else ""
    desk = container.assistant.escalations
    outcome = acknowledge.acknowledge(container.factory, desk, token=token, now=now, client=client)
    if outcome.deliveries:
        send_now(container.factory, container.notifier, outcome.deliveries, now=now)
    log.info("email: acknowledge link used: %s", outcome.outcome)
    return _page(outcome, request)


def _page(outcome: acknowledge.Outcome, request: Request) -> HTMLResponse:
    # Relative (the token itself, resolved against /ack/): right behind a proxy that adds a path prefix.
    body = page.render(outcome, action=request.url.path.rsplit("/", 1)[-1])
    return HTMLResponse(body, status_code=outcome.status, headers=page.HEADERS)
