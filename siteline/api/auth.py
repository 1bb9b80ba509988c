"""Bearer-token check for the JSON API (constant-time compare; disabled when no token is set)."""

from __future__ import annotations

import hmac

from fastapi import Header, HTTPException, Request
from pydantic import SecretStr


def require_token(request: Request, authorization: str | None = Header(default=None)) -> str:
    """Return the caller label, or 401 when the token is missing or wrong."""
    expected = request.app.state.container.settings.api_token
    if expected is None:
        raise HTTPException(401, "the API is disabled: set SITELINE_API_TOKEN on the server")
    if not bearer_matches(authorization, expected):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    return "api"


def bearer_matches(authorization: str | None, expected: SecretStr) -> bool:
    """Whether an `Authorization` header carries this bearer token (compared in constant time)."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), expected.get_secret_value().encode())
