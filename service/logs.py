"""Logging: structlog and stdlib logging through one handler, as JSON lines or console text,
with secrets redacted; and the writer of access lines in the same format."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import select
import sys
import time
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog
from structlog.typing import Processor

from service.request_record import current_request

LOG_HANDLER_NAME = "broadsheet"
APP_LOGGERS = ("broadsheet", "service", "graphql_schema", "rest", "db")
# Keys whose values never reach a log line, whoever logs them (matched as substrings).
_SECRET_KEYS = ("password", "token", "secret", "authorization", "api_key", "cookie", "variables")
_REDACTED = "[redacted]"

ACCESS_LOGGER = "broadsheet.access"
FLUSH_SECONDS = 0.1  # the most a buffered access line waits
FLUSH_BYTES = 64_000
access_log = structlog.stdlib.get_logger(ACCESS_LOGGER)


def _redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    for key in event_dict:
        if _is_secret(key):
            event_dict[key] = _REDACTED
    return event_dict


def _add_request_id(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
    # From the request's record rather than bound with structlog: one context variable set
    # per request instead of two, which a cache hit notices.
    record = current_request()
    if record is not None:
        event_dict.setdefault("request_id", record.request_id)
    return event_dict


class _UtcTimestamp:
    """Adds `timestamp`, ISO 8601 in UTC with microseconds ("2026-12-03T04:08:39.972128Z"), as
    structlog's TimeStamper(fmt="iso", utc=True) does but always with microseconds, at a
    quarter of its cost: the date and time of day are formatted once a second. Every line
    takes one, the access line of every request among them."""

    def __init__(self) -> None:
        # One attribute, replaced whole: lines are logged from threads too.
        self._formatted: tuple[int, str] = (-1, "")

    def __call__(self, _: Any, __: str, event_dict: MutableMapping[str, Any]) -> Any:
        now = time.time()
        second = int(now)
        formatted_second, prefix = self._formatted
        if second != formatted_second:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._formatted = (second, prefix)
        event_dict["timestamp"] = f"{prefix}.{int((now - second) * 1e6):06d}Z"
        return event_dict


_timestamp = _UtcTimestamp()


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
    rendered here as the processors `configure_logging` gives every other line render it (same
    keys, order, timestamp and redaction) and written as that handler would, without the trip
    through stdlib logging and structlog's formatter: that trip cost about 45 µs a request, a
    seventh of a compiled read's whole CPU time (one post by slug: 0.305 → 0.260 ms). Lines
    with a traceback, console text, and any set-up with another handler or a filter on the
    way (a log shipper, pytest's caplog) take the usual route.

    `buffered` (production): those lines are written together, FLUSH_SECONDS after the first
    of them or once FLUSH_BYTES are waiting, as nginx's `access_log … buffer= flush=` does:
    one write a line cost a cache hit a fifth of its CPU time. An error line is written at
    once, after those waiting; `flush()` writes what waits (the app's shutdown calls it).
    """

    def __init__(
        self,
        *,
        json: bool,
        processors: list[Processor],
        handler: logging.Handler,
        buffered: bool = False,
    ) -> None:
        self._json = json
        self._processors = processors
        self._handler = handler
        self._logger = logging.getLogger(ACCESS_LOGGER)
        self._buffered = buffered
        self._waiting: list[bytes] = []
        self._waiting_bytes = 0
        self._timer: asyncio.TimerHandle | None = None

    def write(self, fields: dict[str, Any], *, error: bool, failure: Exception | None) -> None:
        if failure is not None:
            self.flush()
            access_log.error("request", exc_info=failure, **fields)
            return
        level, method = (logging.ERROR, "error") if error else (logging.INFO, "info")
        if not self._json or not self._ours_alone(level):
            self.flush()
            (access_log.error if error else access_log.info)("request", **fields)
            return
        if not self._logger.isEnabledFor(level):
            return
        event: Any = {**fields, "event": "request"}
        if structlog.contextvars.get_contextvars():
            for processor in self._processors:
                # The renderer is not among these processors, so each hands on the event dict.
                event = processor(self._logger, method, event)
        else:
            # What those processors add when nothing is bound to structlog's context, in their
            # order; the access fields are ours, with nothing to redact. A quarter of their
            # cost, which a cache hit notices (a test holds both routes to the same line).
            _add_request_id(self._logger, method, event)
            event["level"] = method
            event["logger"] = ACCESS_LOGGER
            _timestamp(self._logger, method, event)
        # Bytes until written: measured for the PIPE_BUF chunks without encoding again.
        line = orjson.dumps(event, default=repr, option=orjson.OPT_APPEND_NEWLINE)
        self._waiting.append(line)
        self._waiting_bytes += len(line)
        if not self._buffered or error or self._waiting_bytes >= FLUSH_BYTES:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no event loop to wait on
                self.flush()

    def flush(self) -> None:
        """Write the lines waiting, if any."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiting:
            return
        lines, self._waiting = self._waiting, []
        self._waiting_bytes = 0
        # As logging.raiseExceptions=False would: a broken log pipe must not fail requests.
        with contextlib.suppress(OSError, ValueError):
            for chunk in _atomic_chunks(lines):
                sys.stderr.write(chunk.decode())
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


def _atomic_chunks(lines: list[bytes]) -> list[bytes]:
    """Whole lines joined into writes of at most PIPE_BUF bytes: a pipe (stderr under Docker
    or systemd) keeps such a write whole, so several workers' lines never interleave."""
    chunks: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for line in lines:
        if current and size + len(line) > select.PIPE_BUF:
            chunks.append(b"".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line)
    if current:
        chunks.append(b"".join(current))
    return chunks


def configure_logging(*, json: bool, level: str = "INFO", buffered: bool = False) -> AccessLog:
    """Send structlog and stdlib logging through one handler: JSON lines, or console text.
    Returns the writer of access lines, which share that format (`buffered`: see AccessLog)."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _timestamp,
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
    return AccessLog(json=json, processors=shared, handler=handler, buffered=buffered)
