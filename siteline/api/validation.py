"""Refused bodies, always answered as valid JSON that names the field and the reason, never the text sent.

FastAPI's own 422 handler echoes each bad input back. That put PHI from a refused question into the
response (a 1 MB question came back whole), and an input that JSON cannot carry made the error response
itself fail to encode: `NaN` or `Infinity` (which Python's JSON reader accepts) and half a UTF-16 pair
("\\ud800", which JSON may escape) gave a 500 whose traceback printed the question to the log. So the
input is left out, and what remains is made encodable.

A body that cannot be read as JSON at all gets FastAPI's bare 400 "There was an error parsing the body";
`http_error` says which of the usual reasons it was. Every other refusal (404 for an escalation id, 422 for a
sender not in the directory) goes out through the PHI guard: those messages repeat the value they could not
find, and a value typed into an id field can be a phone number or an email address.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from siteline import phi

FASTAPI_PARSE_ERROR = "There was an error parsing the body"
NOT_ECHOED = ("input",)


async def unprocessable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k not in NOT_ECHOED} for e in exc.errors()]
    return JSONResponse({"detail": _encodable(jsonable_encoder(errors))}, status_code=422)


async def http_error(request: Request, exc: Exception) -> Response:
    """FastAPI's 400 for a body it could not decode, with the reason; every other HTTP error as FastAPI sends it,
    its message through the PHI guard."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.detail == FASTAPI_PARSE_ERROR:
        return JSONResponse({"detail": _reason(exc.__cause__)}, status_code=400)
    if 400 <= exc.status_code < 500 and exc.detail:
        exc = HTTPException(exc.status_code, _redacted(exc.detail), exc.headers)
    return await http_exception_handler(request, exc)


def _redacted(detail: Any) -> Any:
    """A refusal's message(s) with PHI replaced, as the guard replaces it in stored text."""
    if isinstance(detail, str):
        return phi.redact(detail).text
    if isinstance(detail, list):
        return [_redacted_problem(d) for d in detail]
    return detail


def _redacted_problem(problem: Any) -> Any:
    if isinstance(problem, dict) and isinstance(problem.get("msg"), str):
        return {**problem, "msg": phi.redact(problem["msg"]).text}
    return problem


def _reason(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return "the body is not UTF-8 JSON (a compressed body or another character encoding cannot be read)"
    if isinstance(cause, RecursionError):
        return "the body's JSON is nested too deeply to read"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "a number in the body has too many digits to read"
    return "the body could not be read as JSON"


def _encodable(node: Any) -> Any:
    """Non-finite numbers as strings, lone surrogates replaced: what JSON in UTF-8 can carry."""
    if isinstance(node, float) and not math.isfinite(node):
        return str(node)
    if isinstance(node, str):
        return node.encode("utf-8", "replace").decode("utf-8")
    if isinstance(node, dict):
        return {_encodable(k): _encodable(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_encodable(v) for v in node]
    return node
