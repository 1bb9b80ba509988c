"""422 for a body that fails validation, always as valid JSON.

FastAPI's own handler echoes each bad input back, and a body holding `NaN` or `Infinity` (which
Python's JSON reader accepts) then made the error response itself fail to encode: a 500 for what
is plainly the client's mistake. Non-finite numbers are echoed as strings instead.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


async def unprocessable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)


def _finite(node: Any) -> Any:
    if isinstance(node, float) and not math.isfinite(node):
        return str(node)
    if isinstance(node, dict):
        return {k: _finite(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_finite(v) for v in node]
    return node
