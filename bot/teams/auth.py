"""Who may post to `/api/messages` and how the bot gets tokens to answer, from Settings.

With app credentials (TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID) inbound JWTs are
validated by the SDK's own validator (Bot Framework / Entra signing keys, audience = app id)
and outbound calls carry an MSAL client-credentials token. Without them, and only when
SITELINE_TEAMS_ANONYMOUS is set, activities without a token are accepted and replies carry
none: for local testing with a fake connector or the Agents Playground, never production.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    AuthenticationConstants,
    AuthTypes,
    ClaimsIdentity,
    ConnectionManager,
    JwtTokenValidator,
)

from core.settings import Settings

log = logging.getLogger("siteline.bot.teams")
T = TypeVar("T")

ANONYMOUS_WARNING = (
    "teams: ANONYMOUS LOCAL MODE (SITELINE_TEAMS_ANONYMOUS=1 and no TEAMS_APP_ID): POST /api/messages accepts "
    "activities WITHOUT authentication and replies without a token. For local testing only; never expose it."
)
CONNECTOR_SCOPE = AuthenticationConstants.AGENTS_SDK_SCOPE  # https://api.botframework.com


class TeamsConfigError(ValueError):
    """Teams credentials that cannot work; the message names the variable to fix."""


@dataclass(frozen=True)
class TeamsAuth:
    configuration: AgentAuthConfiguration
    connections: ConnectionManager
    anonymous: bool
    app_id: str | None

    @property
    def token_provider(self) -> AccessTokenProviderBase:
        return self.connections.get_default_connection()

    def connector_token(self) -> str | None:
        """A bearer token for the Bot Framework connector (None in anonymous mode). Blocking."""
        if self.anonymous:
            return None
        scopes = [f"{CONNECTOR_SCOPE}/.default"]
        return run_blocking(self.token_provider.get_access_token(CONNECTOR_SCOPE, scopes)) or None


def build_auth(settings: Settings) -> TeamsAuth | None:
    """The auth setup for the configured mode, or None when Teams is off."""
    if settings.teams_app_id or settings.teams_app_password:
        missing = [
            name
            for name, value in (
                ("TEAMS_APP_ID", settings.teams_app_id),
                ("TEAMS_APP_PASSWORD", settings.teams_app_password),
                ("TEAMS_TENANT_ID", settings.teams_tenant_id),
            )
            if not value
        ]
        if missing:
            raise TeamsConfigError(f"Teams app credentials are incomplete: set {', '.join(missing)}")
        from microsoft_agents.authentication.msal import MsalConnectionManager

        assert settings.teams_app_password is not None
        config = AgentAuthConfiguration(
            auth_type=AuthTypes.client_secret,
            client_id=settings.teams_app_id,
            tenant_id=settings.teams_tenant_id,
            client_secret=settings.teams_app_password.get_secret_value(),
        )
        manager = MsalConnectionManager(connections_configurations={"SERVICE_CONNECTION": config})
        if settings.teams_anonymous:
            log.warning("teams: SITELINE_TEAMS_ANONYMOUS is ignored because Teams app credentials are set")
        return TeamsAuth(config, manager, anonymous=False, app_id=settings.teams_app_id)
    if settings.teams_anonymous:
        # The SDK warns on every activity that it has no app id; in this mode that is the point.
        logging.getLogger("microsoft_agents.hosting.core.connector.client.user_token_client").setLevel(logging.ERROR)
        config = AgentAuthConfiguration(anonymous_allowed=True)
        manager = ConnectionManager(
            provider_factory=lambda _config: AnonymousTokenProvider(),
            connections_configurations={"SERVICE_CONNECTION": config},
        )
        return TeamsAuth(config, manager, anonymous=True, app_id=None)
    return None


async def inbound_identity(authorization: str | None, config: AgentAuthConfiguration) -> ClaimsIdentity | None:
    """The caller's claims, or None (→ 401). The SDK's own validator and rules (its
    `jwt_authorization_decorator`), except that a malformed token the validator trips over
    (e.g. no `kid` header: a KeyError in SDK 1.9) is a 401 too, not a 500."""
    validator = JwtTokenValidator(config)
    if not authorization:
        return validator.get_anonymous_claims() if config.ANONYMOUS_ALLOWED else None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    try:
        return await validator.validate_token(token)
    except Exception as exc:  # any failure to validate is "not authenticated"; the reason stays in the log
        log.warning("teams: rejected an activity whose token did not validate (%s)", type(exc).__name__)
        return None


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run an SDK coroutine from synchronous code (the outbox worker), even on a thread with a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
