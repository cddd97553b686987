"""Handlers that turn domain errors into FastAPI's `{"detail": …}` with the right status, and
any other error into a 500 saying no more."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from service.auth import AlreadySetUp
from service.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from service.observability import INTERNAL_ERROR
from service.throttling import Throttled


async def domain_error(_: Request, error: Exception) -> JSONResponse:
    if isinstance(error, Unauthenticated):
        return JSONResponse(
            {"detail": str(error)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    if isinstance(error, Throttled):
        return JSONResponse(
            {"detail": "Too many failed sign-ins. Try again later."},
            status_code=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    if isinstance(error, InvalidInput):
        detail = [
            {"loc": ["body", *problem.field], "msg": problem.message, "type": problem.code}
            for problem in error.problems
        ]
        return JSONResponse({"detail": detail}, status_code=422)
    if isinstance(error, AlreadySetUp):
        return JSONResponse({"detail": "This site is already set up."}, status_code=409)
    if isinstance(error, Forbidden):
        return JSONResponse({"detail": str(error)}, status_code=403)
    assert isinstance(error, NotFound)
    return JSONResponse({"detail": "Not found."}, status_code=404)


async def internal_error(_: Request, __: Exception) -> Response:
    """Any other error, in the API's JSON rather than Starlette's plain text (its debug mode
    shows the traceback instead)."""
    return Response(INTERNAL_ERROR, status_code=500, media_type="application/json")


def install(app: FastAPI) -> None:
    for error in (Unauthenticated, Throttled, InvalidInput, AlreadySetUp, Forbidden, NotFound):
        app.add_exception_handler(error, domain_error)
    app.add_exception_handler(Exception, internal_error)
