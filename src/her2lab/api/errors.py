"""Errors as JSON: the library's :class:`~her2lab.errors.Problem` content, never a traceback.

Every error response has the body of :class:`ErrorOut`::

    {"error": "UnknownIdError", "message": "unknown trial 'x'; expected one of: ...",
     "problems": [{"file": "<request>", "line": null, "field": "trial",
                   "expected": "...", "found": "'x'"}],
     "valid": ["aphinity", ...]}

Status codes: 404 for an unknown ID, 422 for input that breaks the schema or a library
validation, 400 for other library errors (a simulation asked for settings it cannot honour),
413 for a body over the size limit, 429 when the job pool or the compute slots are full.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from her2lab.errors import Her2labError, Problem, UnknownIdError, ValidationError

__all__ = ["ApiError", "ErrorOut", "ProblemOut", "clean_json", "install_handlers"]

REQUEST = "<request>"


class ProblemOut(BaseModel):
    """One problem: where it is (file, line, field), what was expected and what was found."""

    file: str
    line: int | None = None
    field: str
    expected: str
    found: str


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: str = Field(description="The error's class, e.g. UnknownIdError.")
    message: str
    problems: list[ProblemOut] = Field(default_factory=list)
    valid: list[str] | None = Field(
        default=None, description="For an unknown ID: the IDs that would have been accepted.")


class ApiError(Exception):
    """An error the API raises itself (a bound exceeded, a busy pool)."""

    def __init__(self, status: int, message: str, problems: list[Problem] | None = None,
                 error: str = "RequestError") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []
        self.error = error


def problem(field: str, expected: str, found: Any) -> Problem:
    """A problem with the request itself (no file)."""
    return Problem(REQUEST, field, expected, found if isinstance(found, str) else repr(found))


def _problem_out(p: Any) -> ProblemOut:
    d = dataclasses.asdict(p) if dataclasses.is_dataclass(p) else dict(p)
    found = d.get("found", d.get("got", ""))
    return ProblemOut(file=str(d.get("file", REQUEST)), line=d.get("line"),
                      field=str(d.get("field", "")), expected=str(d.get("expected", "")),
                      found=str(found))


def clean_json(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become ``null`` (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, str):
        try:  # numpy scalars
            return clean_json(value.item())
        except (TypeError, ValueError):
            return value
    return value


def _respond(status: int, body: ErrorOut, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def _status_of(exc: Her2labError) -> int:
    if isinstance(exc, UnknownIdError):
        return 404
    if isinstance(exc, ValidationError):
        return 422
    return 400


def her2lab_error_response(exc: Her2labError) -> JSONResponse:
    problems = [_problem_out(p) for p in getattr(exc, "problems", [])]
    valid = None
    if isinstance(exc, UnknownIdError):
        valid = list(exc.valid)
        problems = [ProblemOut(file=REQUEST, field=exc.kind, expected=f"a known {exc.kind}",
                               found=repr(exc.given))]
    body = ErrorOut(error=type(exc).__name__, message=str(exc), problems=problems, valid=valid)
    return _respond(_status_of(exc), body)


_UNION_TAG = re.compile(r"^(constrained-\w+|function-\w+|(list|dict|set|tuple|literal|nullable)"
                        r"\[.*\]|str|int|float|bool|date|json-or-python\[.*\])$")
"""Names pydantic puts in an error's location for the member of a union it tried."""


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and _UNION_TAG.match(part):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(request)"


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def install_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into an :class:`ErrorOut` body."""

    @app.exception_handler(Her2labError)
    async def _her2lab(_: Request, exc: Her2labError) -> JSONResponse:
        return her2lab_error_response(exc)

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        body = ErrorOut(error=exc.error, message=exc.message,
                        problems=[_problem_out(p) for p in exc.problems])
        headers = {"Retry-After": "5"} if exc.status == 429 else None
        return _respond(exc.status, body, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            loc = tuple(e.get("loc", ()))
            if loc and loc[0] in ("body", "query", "path"):
                loc = loc[1:] if len(loc) > 1 else loc
            problems.append(ProblemOut(file=REQUEST, field=_loc(loc), expected=e.get("msg", ""),
                                       found=_short(e.get("input"))))
        body = ErrorOut(error="ValidationError",
                        message=f"{len(problems)} problem(s) in the request",
                        problems=problems)
        return _respond(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = ErrorOut(error="HTTPError", message=str(exc.detail))
        return _respond(exc.status_code, body, getattr(exc, "headers", None))
