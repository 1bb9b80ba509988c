"""Teams delivery of outbox messages (digests, urgent updates, escalations, Ask-my-CRA), saying
whether a failure is worth retrying.

A site is reached in its Teams channel (`teams_conversation_id`; serviceUrl from the directory or
learned from traffic); a CRA's answer goes back into the channel thread it came from; a person
in their 1:1 chat with the bot, opened with `createConversation` when they never wrote to it.
Posts go to `{serviceUrl}/v3/conversations/{id}/activities` with the SDK's token provider.
A 429 becomes `SendResult.retry(..., Retry-After)` (the outbox waits instead of blocking the
ticker); 5xx and unreachable connectors are retried with backoff; other refusals fail at once.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from assistant.outbound import Address
from bot.teams import references
from bot.teams.auth import TeamsAuth, TeamsConfigError, build_auth
from bot.teams.cards import ADAPTIVE, clip
from bot.teams.references import Target
from bot.teams.translate import thread_conversation
from bot.teams.update_cards import render_parts
from core.clock import Clock
from core.db import transaction
from core.directory import Directory
from core.notify import PARTS_SENT, RECORD_ONLY_KINDS, OutboundMessage, SendResult

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from siteline.container import Container

log = logging.getLogger("siteline.bot.teams")


class NotReachable(Exception):
    """No conversation or connector is known for a recipient; the message says what to configure."""


class TeamsSender:
    platform = "teams"

    def __init__(
        self, factory: sessionmaker[Session], auth: TeamsAuth, clock: Clock, http: httpx.Client | None = None
    ) -> None:
        self.factory = factory
        self.auth = auth
        self.clock = clock
        self.http = http or httpx.Client(timeout=15)

    def send_to(self, address: Address, message: OutboundMessage) -> SendResult:
        """Post the message (a long digest as several cards, in order, resuming after those already out)."""
        if message.kind in RECORD_ONLY_KINDS:
            return SendResult.sent()
        parts = render_parts(message.kind, message.payload)
        done = int(message.payload.get(PARTS_SENT) or 0)
        refs: list[str] = []
        try:
            target = self._target(address)
            conversation = thread_conversation(target.conversation_id, address.thread_ref)
            for n, (summary, card) in enumerate(parts):
                if n < done:
                    continue
                body: dict[str, Any] = {
                    "type": "message",
                    "summary": clip(summary, 250),
                    "conversation": {"id": conversation},
                    "attachments": [{"contentType": ADAPTIVE, "content": card}],
                }
                if target.bot_id:
                    body["from"] = {"id": target.bot_id}
                try:
                    resp = self._post(target.service_url, f"v3/conversations/{conversation}/activities", body)
                except (httpx.HTTPStatusError, httpx.TransportError):
                    done = n
                    raise
                refs.append(clip(f"{target.conversation_id}:{resp.get('id', '')}", 200))
        except NotReachable as exc:
            return SendResult.failed(str(exc))
        except httpx.HTTPStatusError as exc:
            return replace(self._classify(exc.response, message), parts_sent=done or None)
        except httpx.TransportError as exc:  # connection refused, timeout, DNS: the connector is unreachable
            log.warning("teams delivery %s: %s", message.delivery_id, type(exc).__name__)
            error = f"teams connector unreachable ({type(exc).__name__})"
            return SendResult(ok=False, recoverable=True, error=error, parts_sent=done or None)
        return SendResult.sent(external_ref=refs[0] if refs else None)

    # -- where -----------------------------------------------------------------------------

    def _target(self, address: Address) -> Target:
        if address.conversation_id:
            with transaction(self.factory) as session:
                target = references.conversation(session, address.conversation_id)
            if target is None:
                raise NotReachable(
                    f"no Teams serviceUrl is known for conversation {address.conversation_id}: set the site's "
                    "teams_service_url in the directory, or mention the bot there once"
                )
            return target
        user = address.user_id or ""
        with transaction(self.factory) as session:
            known = references.personal_chat(session, user)
            if known:
                return known
            person = Directory(session).person_by("teams", user)
            place = references.place_for_new_chat(session, person)
        if place is None:
            raise NotReachable(
                f"Teams user {user} has no chat with Siteline yet and no Teams serviceUrl is known: "
                "install the app for them, or have them message the bot once"
            )
        return self._open_chat(user, place)

    def _open_chat(self, user: str, place: Target) -> Target:
        """createConversation: a 1:1 chat between the bot and `user`, remembered for next time."""
        bot = place.bot_id or (f"28:{self.auth.app_id}" if self.auth.app_id else None)
        body: dict[str, Any] = {"isGroup": False, "members": [{"id": user}]}
        if bot:
            body["bot"] = {"id": bot}
        if place.tenant_id:
            body["tenantId"] = place.tenant_id
            body["channelData"] = {"tenant": {"id": place.tenant_id}}
        created = self._post(place.service_url, "v3/conversations", body)
        conversation_id = str(created.get("id") or "")
        if not conversation_id:
            raise NotReachable(f"Teams did not open a chat with user {user}")
        target = Target(conversation_id, place.service_url, place.tenant_id, bot)
        with transaction(self.factory) as session:
            references.remember_personal(session, user=user, target=target, now=self.clock.now())
        return target

    # -- how -------------------------------------------------------------------------------

    def _post(self, service_url: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        token = self.auth.connector_token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        resp = self.http.post(f"{service_url.rstrip('/')}/{path}", json=body, headers=headers)
        resp.raise_for_status()
        try:
            data = resp.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _classify(resp: httpx.Response, message: OutboundMessage) -> SendResult:
        status = resp.status_code
        log.warning("teams delivery %s (%s) failed: HTTP %s", message.delivery_id, message.kind, status)
        if status == 429:
            return SendResult.retry("teams rate limit (HTTP 429)", _retry_after(resp))
        if status >= 500:
            return SendResult.retry(f"teams connector error (HTTP {status})")
        if status == 401:  # the app's credentials: no message can go until they are fixed; hold them
            return SendResult.misconfigured("teams refused: HTTP 401 (check TEAMS_APP_ID / TEAMS_APP_PASSWORD)")
        hint = {403: "is the app installed there?", 404: "conversation gone?"}
        return SendResult.failed(f"teams refused: HTTP {status} ({hint.get(status, 'bad request')})")


def _retry_after(resp: httpx.Response) -> float | None:
    try:
        return float(resp.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def sender(container: Container) -> TeamsSender | None:
    """The Teams half of the Notifier, or None when Teams is not configured."""
    try:
        auth = build_auth(container.settings)
    except TeamsConfigError as exc:
        log.error("teams: %s. Teams deliveries are off.", exc)
        return None
    return TeamsSender(container.factory, auth, container.clock) if auth else None
