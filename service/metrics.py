"""Prometheus metrics of HTTP requests, GraphQL operations and the connection pool; summed
over every worker when several serve (prometheus_client's multiprocess mode)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.pool import QueuePool

from db.engine import Database
from service.request_record import ANONYMOUS_OPERATION, RequestRecord

# Labels come from clients: unknown methods share one label so they cannot grow the series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
MAX_OPERATION_NAMES = 500
OTHER_OPERATION = "(other)"


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
