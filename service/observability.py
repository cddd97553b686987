"""Request ids, access lines, Server-Timing and metrics for every HTTP request.

The middleware is plain ASGI (no framework import), so it streams responses untouched and
keeps this module below the web layer. GraphQL details reach it through `current_request()`
(service/request_record.py), which the schema extension in `graphql_schema/observability.py`
fills in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from db.engine import Database
from service.logs import AccessLog, configure_logging
from service.metrics import Metrics
from service.request_record import (
    ANONYMOUS_OPERATION,
    GraphQLOutcome,
    RequestRecord,
    enter,
    leave,
    request_id_from,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED_ROUTE = "unmatched"


def _route_template(scope: Scope) -> str:
    """The matched route's template ("/posts/{id}"), which keeps metric labels few."""
    # FastAPI's nested routers leave the inner route (its path without the router's prefix)
    # in scope["route"]; the full template is on the route context they keep in their scope
    # key. Older FastAPI flattens routers, so scope["route"] alone is right there.
    fastapi_scope = scope.get("fastapi")
    context = None
    if isinstance(fastapi_scope, dict):
        context = fastapi_scope.get("effective_route_context")
    for candidate in (context, scope.get("route")):
        template = getattr(candidate, "path_format", None) or getattr(candidate, "path", None)
        if isinstance(template, str) and template:
            return template
    return UNMATCHED_ROUTE


class RequestObservability:
    """Give each HTTP request an id, a Server-Timing header, an access log line and metrics."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        access_log: AccessLog,
        metrics: Metrics | None = None,
    ):
        self.app = app
        self.access_log = access_log
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = RequestRecord(request_id=request_id_from(scope["headers"]))
        request_id_bytes = record.request_id.encode("latin-1")
        status: int | None = None
        # Left at the end: under a test client, requests share the caller's context. Log lines
        # take the request id from the record.
        record_token = enter(record)

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Time to the response head; a streamed body may still follow.
                elapsed_ms = (time.perf_counter() - started) * 1000
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id_bytes),
                    (b"server-timing", f"app;dur={elapsed_ms:.1f}".encode()),
                ]
            await send(message)

        failure: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_headers)
        except asyncio.CancelledError as error:
            failure = error
            raise
        except Exception as error:
            failure = error
            # FastAPI answers its own errors (rest.errors); one raised before it (the cache
            # front's) is answered here, so the client gets the request id it must report.
            if status is None:
                await _internal_error(send_with_headers)
            raise
        finally:
            seconds = time.perf_counter() - started
            if status is None:
                # 499: the client went away before an answer (nginx's convention): the
                # request was cancelled, or the app saw it go and had nobody to answer.
                status = 500 if isinstance(failure, Exception) else 499
            route = record.route or _route_template(scope)
            self._log(scope, status=status, seconds=seconds, record=record, failure=failure)
            if self.metrics is not None:
                self.metrics.observe(
                    method=scope["method"],
                    route=route,
                    status=status,
                    seconds=seconds,
                    record=record,
                )
            leave(record_token)

    def _log(
        self,
        scope: Scope,
        *,
        status: int,
        seconds: float,
        record: RequestRecord,
        failure: BaseException | None,
    ) -> None:
        # The path only: query strings can carry GraphQL variables and other secrets.
        fields: dict[str, Any] = {
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        fields.update(_graphql_fields(record.graphql))
        self.access_log.write(
            fields,
            error=status >= 500,
            failure=failure if isinstance(failure, Exception) else None,
        )


def _graphql_fields(outcomes: list[GraphQLOutcome]) -> dict[str, Any]:
    if not outcomes:
        return {}
    if len(outcomes) == 1:
        [outcome] = outcomes
        return {
            "graphql_operation": outcome.operation_name,
            "graphql_operation_type": outcome.operation_type,
            "graphql_error_codes": outcome.error_codes,
        }
    # A batch keeps each field's type (string, string, list) so log stores can index it.
    return {
        "graphql_operation": ",".join(o.operation_name or ANONYMOUS_OPERATION for o in outcomes),
        "graphql_operation_type": ",".join(o.operation_type for o in outcomes),
        "graphql_error_codes": [code for o in outcomes for code in o.error_codes],
        "graphql_batch_size": len(outcomes),
    }


# REST errors are FastAPI's {"detail": ...}; an unexpected one says nothing more.
INTERNAL_ERROR = b'{"detail":"Internal server error."}'


async def _internal_error(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(INTERNAL_ERROR)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": INTERNAL_ERROR})


class ObservableApp(Protocol):
    """The part of an ASGI framework app that installation needs (service.app.App has it)."""

    def add_outer_middleware(self, middleware_class: Any, **options: Any) -> Any:
        """Put a layer in front of all of the app's own."""


@dataclass(frozen=True)
class Observability:
    access_log: AccessLog
    metrics: Metrics | None  # None when disabled


def install_observability(
    app: ObservableApp,
    *,
    json_logs: bool,
    log_level: str = "INFO",
    buffered_access_log: bool = False,
    metrics: bool = False,
    database: Database | None = None,
) -> Observability:
    """Configure logging, and put the request middleware in front of everything in `app`."""
    access_log = configure_logging(json=json_logs, level=log_level, buffered=buffered_access_log)
    recorder = Metrics(database=database) if metrics else None
    app.add_outer_middleware(RequestObservability, access_log=access_log, metrics=recorder)
    return Observability(access_log, recorder)
