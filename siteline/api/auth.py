"""Bearer-token check for the JSON API (constant-time compare; disabled when no token is set)."""

from __future__ import annotations

import hmac

from fastapi import Header, HTTPException, Request


def require_token(request: Request, authorization: str | None = Header(default=None)) -> str:
    """Return the caller label, or 401 when the token is missing or wrong."""
    expected = request.app.state.container.settings.api_token
    if expected is None:
        raise HTTPException(401, "the API is disabled: set SITELINE_API_TOKEN on the server")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise HTTPException(401, "missing or wrong bearer token", headers={"WWW-Authenticate": "Bearer"})
    return "api"
