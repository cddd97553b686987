"""Request ids, access logs, Server-Timing and Prometheus metrics for every HTTP request.

The middleware is plain ASGI (no framework import), so it streams responses untouched and
keeps this module below the web layer. GraphQL details reach it through `current_request()`,
which the schema extension in `graphql_schema/observability.py` fills in.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import orjson
import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.pool import QueuePool
from structlog.typing import Processor

from db.engine import Database

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOG_HANDLER_NAME = "broadsheet"
APP_LOGGERS = ("broadsheet", "service", "graphql_schema", "rest", "db")
REQUEST_ID_HEADER = b"x-request-id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Keys whose values never reach a log line, whoever logs them (matched as substrings).
_SECRET_KEYS = ("password", "token", "secret", "authorization", "api_key", "cookie", "variables")
_REDACTED = "[redacted]"
# Labels come from clients: unknown methods share one label so they cannot grow the series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
UNMATCHED_ROUTE = "unmatched"
MAX_OPERATION_NAMES = 500
OTHER_OPERATION = "(other)"
ANONYMOUS_OPERATION = "(anonymous)"
UNKNOWN_OPERATION_TYPE = "unknown"

ACCESS_LOGGER = "broadsheet.access"
access_log = structlog.stdlib.get_logger(ACCESS_LOGGER)


# --- Per-request record ------------------------------------------------------------------------


@dataclass
class GraphQLOutcome:
    """What one GraphQL operation was and which error codes it answered with."""

    operation_type: str
    operation_name: str | None
    error_codes: list[str] = field(default_factory=list)


@dataclass
class RequestRecord:
    """Filled in while a request runs; logged and counted when it ends."""

    request_id: str
    # One per operation: a batched request runs several.
    graphql: list[GraphQLOutcome] = field(default_factory=list)
    # Set by a middleware that answers before any route matches (the compiled GraphQL path).
    route: str | None = None


_current: ContextVar[RequestRecord | None] = ContextVar("broadsheet_request", default=None)


def current_request() -> RequestRecord | None:
    """The record of the HTTP request being served, or None outside one."""
    return _current.get()


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when well-formed, else a fresh uuid4 hex."""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if _REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return os.urandom(16).hex()  # the shape of uuid4().hex at a fifth of the cost


# --- Logging -----------------------------------------------------------------------------------


def _redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    for key in event_dict:
        if _is_secret(key):
            event_dict[key] = _REDACTED
    return event_dict


def _json_line(event: Any, **_: Any) -> str:
    # orjson: the access line is written once per request; anything unusual goes as repr().
    return orjson.dumps(event, default=repr).decode()


@functools.lru_cache(maxsize=1024)
def _is_secret(key: str) -> bool:
    # Cached: every request's access line asks about the same few keys.
    return any(secret in key.lower() for secret in _SECRET_KEYS)


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is at the time, so redirection (and capture) is followed."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


class AccessLog:
    """Writes each request's access line.

    As JSON, and when our handler is the only one logging would pass it to, the line is
    rendered here by the same processors `configure_logging` gives every other line (same
    keys, order, timestamp and redaction) and written as that handler would, without the trip
    through stdlib logging and structlog's formatter: that trip cost about 45 µs a request, a
    seventh of a compiled read's whole CPU time (one post by slug: 0.305 → 0.260 ms). Lines
    with a traceback, console text, and any set-up with another handler or a filter on the
    way (a log shipper, pytest's caplog) take the usual route.
    """

    def __init__(
        self, *, json: bool, processors: list[Processor], handler: logging.Handler
    ) -> None:
        self._json = json
        self._processors = processors
        self._handler = handler
        self._logger = logging.getLogger(ACCESS_LOGGER)

    def write(self, fields: dict[str, Any], *, error: bool, failure: Exception | None) -> None:
        if failure is not None:
            access_log.error("request", exc_info=failure, **fields)
            return
        level, method = (logging.ERROR, "error") if error else (logging.INFO, "info")
        if not self._json or not self._ours_alone(level):
            (access_log.error if error else access_log.info)("request", **fields)
            return
        if not self._logger.isEnabledFor(level):
            return
        event: dict[str, Any] = {**fields, "event": "request"}
        for processor in self._processors:
            # The renderer is not among these processors, so each hands on the event dict.
            event = cast(dict[str, Any], processor(self._logger, method, event))
        # As logging.raiseExceptions=False would: a broken log pipe must not fail requests.
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(_json_line(event) + "\n")
            sys.stderr.flush()

    def _ours_alone(self, level: int) -> bool:
        """Whether logging would hand a record at `level` to our handler and nothing else."""
        handlers: list[logging.Handler] = []
        logger: logging.Logger | None = self._logger
        while logger is not None:
            handlers += logger.handlers
            logger = logger.parent if logger.propagate else None
        handler = self._handler
        return (
            not self._logger.filters
            and handlers == [handler]
            and not handler.filters
            and level >= handler.level
        )


def configure_logging(*, json: bool, level: str = "INFO") -> AccessLog:
    """Send structlog and stdlib logging through one handler: JSON lines, or console text.
    Returns the writer of access lines, which share that format."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # Tracebacks never show local variables: they may hold passwords and tokens.
    renderer: list[Any] = (
        [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            ),
            structlog.processors.JSONRenderer(serializer=_json_line),
        ]
        if json
        else [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
            )
        ]
    )
    handler = _StderrHandler()
    handler.set_name(LOG_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    # Our lines never show the process or thread, and looking them up per record costs more
    # than the rest of the access line.
    logging.logProcesses = logging.logThreads = logging.logMultiprocessing = False
    root = logging.getLogger()
    # Replace only our own handler: the app factory may run more than once per process.
    for existing in [h for h in root.handlers if h.get_name() == LOG_HANDLER_NAME]:
        root.removeHandler(existing)
    root.addHandler(handler)
    # Our code logs at `level`; libraries keep the root's level (WARNING unless configured),
    # so their chatter, such as the URLs an HTTP client requests, stays out.
    for name in APP_LOGGERS:
        logging.getLogger(name).setLevel(level.upper())
    # Uvicorn's lines go through our handler too; its access line is replaced by ours.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    # Strawberry logs every GraphQL error with the document around it, and documents can hold
    # literal passwords. The access line has the codes; ErrorPolicy logs the unexpected ones.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    return AccessLog(json=json, processors=shared, handler=handler)


# --- Metrics -----------------------------------------------------------------------------------


MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# What prometheus_client's multiprocess mode writes: one file per process and metric kind.
# Only prometheus_client's own files: the directory may be shared (even with broadsheet.db).
_METRIC_FILE = re.compile(r"(counter|gauge_[a-z]+|histogram|summary)_\d+\.db")
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")  # a worker's per-worker gauges


def multiprocess_directory() -> str | None:
    """Where the workers of one server write their metrics, when there are several: the
    variable prometheus_client itself reads, once, when it is imported (so not a setting)."""
    return os.environ.get(MULTIPROCESS_DIR_VARIABLE) or None


@contextlib.contextmanager
def shared_metrics_directory() -> Iterator[str]:
    """Make multiprocess mode ready for workers started inside the block: the directory named
    by PROMETHEUS_MULTIPROC_DIR emptied of old metrics (a restart starts counting anew), or a
    temporary one set in that variable for the workers to inherit, and removed afterwards."""
    given = multiprocess_directory()
    if given is not None:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in [p for p in Path(given).iterdir() if _METRIC_FILE.fullmatch(p.name)]:
            stale.unlink()
        yield given
        return
    directory = tempfile.mkdtemp(prefix="broadsheet-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
    try:
        yield directory
    finally:
        del os.environ[MULTIPROCESS_DIR_VARIABLE]
        shutil.rmtree(directory, ignore_errors=True)


class _AllWorkers(Collector):
    """Every worker's metrics, summed from the files each writes (prometheus_client's
    multiprocess mode): whichever worker answers the scrape reports them all."""

    # prometheus_client.multiprocess has no type hints, hence the ignores in this part.
    def __init__(self, directory: str) -> None:
        self._directory = directory
        self._files = MultiProcessCollector(None, path=directory)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterable[Metric]:
        # The per-worker gauges of workers that are gone go too (their counters still count).
        # Found here rather than told by the server: uvicorn has no hook for a worker's exit,
        # its workers end by re-raising SIGTERM (no atexit), and a killed worker tells no one.
        # A pid names one process for all users of the directory, as the files' names assume.
        for name in os.listdir(self._directory):
            if (found := _LIVE_GAUGE_FILE.fullmatch(name)) and not _running(int(found[1])):
                _forget_worker(int(found[1]), self._directory)
        metrics: Iterable[Metric] = self._files.collect()  # type: ignore[no-untyped-call]
        return metrics


def _forget_worker(pid: int, directory: str) -> None:
    mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def _watch_pool(database: Database, registry: CollectorRegistry) -> None:
    """Gauges of the connection pool, kept current by the pool's own checkout and checkin.

    Per worker (a `pid` label when there are several): a pool belongs to one process, and
    one worker waiting on its full pool is what to see; a sum over workers would hide it
    (`sum()` in the query gives the total against the database's connection limit). They
    are published as they change rather than read at scrape time, because the worker that
    answers a scrape cannot read the other workers' pools.
    """
    engine = database.engine.sync_engine
    # Only queue pools count connections; others (NullPool, StaticPool) export nothing.
    if not isinstance(engine.pool, QueuePool):
        return
    checked_out = Gauge(
        "broadsheet_db_pool_checked_out_connections",
        "Database connections currently checked out of the pool.",
        registry=registry,
        multiprocess_mode="liveall",
    )
    Gauge(
        "broadsheet_db_pool_size",
        "Configured size of the database pool.",
        registry=registry,
        multiprocess_mode="liveall",
    ).set(engine.pool.size())

    # The pool's own count, not +1/-1 per event: a failed checkout is checked in without
    # having been checked out, and counting would drift. The engine replaces its pool on
    # dispose (a pool of the same class, keeping these listeners), so the current one is
    # asked. A checkin is told before the connection is back in the pool, hence the -1.
    def on_checkout(*_: object) -> None:
        checked_out.set(cast(QueuePool, engine.pool).checkedout())

    def on_checkin(*_: object) -> None:
        checked_out.set(cast(QueuePool, engine.pool).checkedout() - 1)

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)


class Metrics:
    """One app's Prometheus metrics, in a registry of its own.

    With several workers (PROMETHEUS_MULTIPROC_DIR set, see `shared_metrics_directory`) each
    worker writes its values to files there, and `registry`, which /metrics serves, sums
    every worker's files instead of holding this app's metrics.
    """

    def __init__(self, *, database: Database | None = None) -> None:
        own = CollectorRegistry()
        self.requests = Counter(
            "broadsheet_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "broadsheet_http_request_duration_seconds",
            "Time from receiving a request to sending the end of its response.",
            ["method", "route"],
            registry=own,
        )
        self.operations = Counter(
            "broadsheet_graphql_operations",
            "GraphQL operations executed, by operation type and name.",
            ["operation_type", "operation_name"],
            registry=own,
        )
        self.errors = Counter(
            "broadsheet_graphql_errors",
            "GraphQL errors returned, by extensions.code.",
            ["code"],
            registry=own,
        )
        self._operation_names: set[str] = set()
        if database is not None:
            _watch_pool(database, own)
        directory = multiprocess_directory()
        if directory is None:
            self.registry = own
        else:
            # Not `own`: the files hold its metrics already, and they would be served twice.
            self.registry = CollectorRegistry()
            self.registry.register(_AllWorkers(directory))

    def _operation_label(self, name: str | None) -> str:
        if name is None:
            return ANONYMOUS_OPERATION
        # Clients choose operation names: cap the distinct series one process keeps.
        if name not in self._operation_names:
            if len(self._operation_names) >= MAX_OPERATION_NAMES:
                return OTHER_OPERATION
            self._operation_names.add(name)
        return name

    def observe(
        self, *, method: str, route: str, status: int, seconds: float, record: RequestRecord
    ) -> None:
        """Count one finished request (and its GraphQL operation, if it was one)."""
        method = method if method in _METHODS else "OTHER"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        for outcome in record.graphql:
            self.operations.labels(
                outcome.operation_type, self._operation_label(outcome.operation_name)
            ).inc()
            for code in outcome.error_codes:
                self.errors.labels(code).inc()


# --- Middleware --------------------------------------------------------------------------------


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
        debug: bool = False,
    ):
        self.app = app
        self.access_log = access_log
        self.metrics = metrics
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = RequestRecord(request_id=request_id_from(scope["headers"]))
        request_id_bytes = record.request_id.encode("latin-1")
        status: int | None = None
        # Reset afterwards: under a test client, requests share the caller's context.
        log_context = structlog.contextvars.bind_contextvars(request_id=record.request_id)
        record_token = _current.set(record)

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Time to the response head; a streamed body may still follow.
                elapsed_ms = (time.perf_counter() - started) * 1000
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", ()),
                        (b"x-request-id", request_id_bytes),
                        (b"server-timing", f"app;dur={elapsed_ms:.1f}".encode()),
                    ],
                }
            await send(message)

        failure: BaseException | None = None
        try:
            await self.app(scope, receive, send_with_headers)
        except asyncio.CancelledError as error:
            failure = error
            raise
        except Exception as error:
            failure = error
            # Starlette's own 500 is sent outside this middleware, without our headers; send
            # the same response here so the client gets the request id it must report.
            # (In debug mode Starlette's traceback page is more useful, so leave it be.)
            if status is None and not self.debug:
                await _internal_error(send_with_headers)
            raise
        finally:
            seconds = time.perf_counter() - started
            if status is None:
                # 499: the client went away before an answer (nginx's convention).
                status = 499 if isinstance(failure, asyncio.CancelledError) else 500
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
            _current.reset(record_token)
            structlog.contextvars.reset_contextvars(**log_context)

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


async def _internal_error(send: Send) -> None:
    # REST errors are FastAPI's {"detail": ...}; an unexpected one says nothing more.
    body = b'{"detail":"Internal server error."}'
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- Wiring ------------------------------------------------------------------------------------


class ObservableApp(Protocol):
    """The part of an ASGI framework app that installation needs (FastAPI has it)."""

    @property
    def debug(self) -> bool: ...

    def add_middleware(self, middleware_class: Any, *args: Any, **kwargs: Any) -> None: ...


def install_observability(
    app: ObservableApp,
    *,
    json_logs: bool,
    log_level: str = "INFO",
    metrics: bool = False,
    database: Database | None = None,
) -> Metrics | None:
    """Configure logging and add the request middleware; return the metrics when enabled."""
    access_log = configure_logging(json=json_logs, level=log_level)
    recorder = Metrics(database=database) if metrics else None
    app.add_middleware(
        RequestObservability, access_log=access_log, metrics=recorder, debug=app.debug
    )
    return recorder
