"""Benchmark Broadsheet's GraphQL API on a seeded database of 10,000 posts.

Run from the repository root with the project's virtualenv active:

    python bench/run.py [--database-url URL] [--duration SECONDS] [--connections N]

It migrates and seeds the database (a fresh SQLite file unless told otherwise), starts the
server in its production configuration as a separate uvicorn process, checks that every
standard query answers correctly, then drives each one with concurrent keep-alive connections
and prints a markdown table of throughput, latency and CPU cost per request.

The load comes from wrk when it is installed, with the server alone on one core and wrk (and
PostgreSQL) on the other, as compare.py runs them; else (or with `--load python`) from an
asyncio httpx client sharing the cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
from cases import QueryCase, build_cases, check_cases
from cpu import (
    CpuMeter,
    database_cpu_delta,
    new_sessions,
    other_load,
    postgresql_activity,
    postgresql_pinned,
)
from database import absolute_sqlite_url, database_version, is_postgresql, prepare_database
from errors import BenchError
from load import Load, lua_script, wait_idle, wrk
from processes import raise_on_sigterm, run_event_loop, running_server, tail, wait_ready
from sqlalchemy.engine import make_url

REQUEST_TIMEOUT_SECONDS = 30.0
SERVER_CORE, LOAD_CORE = 0, 1  # with wrk: the server alone on one, wrk and this script on the other


# --------------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class Options:
    database_url: str | None
    duration: float
    warmup: float
    connections: int
    reset: bool
    load: str  # "wrk" or "python"
    # Settings over production's, as the server's environment (the roads switched off).
    overrides: dict[str, str] = field(default_factory=dict)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy async URL (default: a fresh SQLite file in a temporary directory)",
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="timed seconds per query (default 10)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="untimed seconds before each query (default 2)"
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="concurrent connections (default 16)"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="empty the database first (alembic downgrade base, then upgrade) and reseed",
    )
    parser.add_argument(
        "--response-cache",
        choices=("on", "off"),
        default="on",
        help="the server's response cache (default on, as in production); off measures the "
        "compiled path answering every request",
    )
    parser.add_argument(
        "--compiled-queries",
        choices=("on", "off"),
        default="on",
        help="the compiled path (default on, as in production); off measures the general path",
    )
    parser.add_argument(
        "--load",
        choices=("wrk", "python"),
        help="the load generator: wrk (the default when wrk and taskset are installed; the "
        f"server alone on core {SERVER_CORE}, wrk on core {LOAD_CORE}) or python (an asyncio "
        "httpx client sharing the cores with the server)",
    )
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.connections < 1:
        parser.error("--duration must be > 0, --warmup >= 0 and --connections >= 1")
    installed = all(shutil.which(tool) for tool in ("wrk", "taskset"))
    wrk_usable = installed and {SERVER_CORE, LOAD_CORE} <= os.sched_getaffinity(0)
    if args.load == "wrk" and not wrk_usable:
        parser.error(f"--load wrk needs wrk, taskset and cores {SERVER_CORE} and {LOAD_CORE}")
    load = args.load or ("wrk" if wrk_usable else "python")
    if load == "wrk" and not (args.duration.is_integer() and args.warmup.is_integer()):
        parser.error("with wrk, --duration and --warmup are whole seconds")
    overrides = {
        "BROADSHEET_RESPONSE_CACHE": str(args.response_cache == "on").lower(),
        "BROADSHEET_COMPILED_QUERIES": args.compiled_queries,
    }
    return Options(
        args.database_url,
        args.duration,
        args.warmup,
        args.connections,
        args.reset,
        load,
        overrides,
    )


# --------------------------------------------------------------------------------------------
# Load


@dataclass(frozen=True)
class Observed:
    """What the load generator saw of one timed run."""

    requests: int
    seconds: float
    p50: float  # ms
    p90: float
    p99: float
    errors: int


def answered_well(response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    body = response.json()
    return not body.get("errors") and bool(body.get("data"))


async def hammer(
    client: httpx.AsyncClient, bodies: list[bytes], connections: int, seconds: float
) -> Observed:
    """Send `bodies` round-robin on `connections` concurrent loops for `seconds`."""
    latencies: list[float] = []
    errors = 0
    headers = {"content-type": "application/json"}
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(offset: int) -> None:
        nonlocal errors
        sent = offset
        while time.perf_counter() < deadline:
            body = bodies[sent % len(bodies)]
            sent += 1
            begin = time.perf_counter()
            try:
                response = await client.post("/graphql", content=body, headers=headers)
                good = answered_well(response)
            except (httpx.HTTPError, ValueError):
                good = False
            latencies.append(time.perf_counter() - begin)
            errors += not good

    await asyncio.gather(*(loop(index) for index in range(connections)))
    latencies.sort()
    p50, p90, p99 = (percentile(latencies, fraction) * 1000 for fraction in (0.5, 0.9, 0.99))
    return Observed(len(latencies), time.perf_counter() - started, p50, p90, p99, errors)


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    per_second: float
    p50: float
    p90: float
    p99: float
    errors: int
    server_cpu_ms: float | None
    database_cpu_ms: float | None
    client_cpu_ms: float | None
    other_cpus: float
    new_connections: int | None


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def per_request_ms(seconds: float | None, requests: int) -> float | None:
    return None if seconds is None else seconds * 1000 / max(requests, 1)


async def wrk_run(url: str, script: Path, seconds: float, connections: int) -> Observed:
    load = Load(
        duration=int(seconds),
        warmup=0,
        connections=connections,
        timeout=math.ceil(REQUEST_TIMEOUT_SECONDS),
        server_core=SERVER_CORE,
        load_core=LOAD_CORE,
    )
    result = await wrk(url, script, load.duration, load)
    return Observed(
        result.requests, result.seconds, result.p50_ms, result.p90_ms, result.p99_ms, result.errors
    )


async def measure(
    client: httpx.AsyncClient,
    server: subprocess.Popen[bytes],
    case: QueryCase,
    options: Options,
    meter: CpuMeter,
) -> Row:
    bodies = case.bodies()
    print(f"  {case.name}: {options.warmup:g} s warm-up, {options.duration:g} s timed ...")
    with tempfile.TemporaryDirectory(prefix="broadsheet-bench-wrk-") as scratch:
        run: Callable[[float], Awaitable[Observed]]
        if options.load == "wrk":
            script = lua_script(bodies, Path(scratch) / "bodies.lua")
            url = str(client.base_url.join("/graphql"))
            run = functools.partial(wrk_run, url, script, connections=options.connections)
        else:
            run = functools.partial(hammer, client, bodies, options.connections)
        if options.warmup:
            await run(options.warmup)
        await wait_idle(server.pid)  # the warm-up's queued requests are not timed
        before = await meter.read()
        observed = await run(options.duration)
        after = await meter.read()
    return Row(
        name=case.name,
        requests=observed.requests,
        per_second=observed.requests / observed.seconds,
        p50=observed.p50,
        p90=observed.p90,
        p99=observed.p99,
        errors=observed.errors,
        server_cpu_ms=per_request_ms(after.server - before.server, observed.requests),
        database_cpu_ms=per_request_ms(database_cpu_delta(before, after), observed.requests),
        client_cpu_ms=per_request_ms(after.client - before.client, observed.requests),
        other_cpus=other_load(before, after),
        new_connections=new_sessions(before, after),
    )


async def benchmark(
    base_url: str, server: subprocess.Popen[bytes], log: Path, url: str, options: Options
) -> list[Row]:
    parsed = make_url(url)
    meter = CpuMeter(server.pid, parsed if is_postgresql(parsed) else None)
    limits = httpx.Limits(
        max_connections=options.connections, max_keepalive_connections=options.connections
    )
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS
    ) as client:
        await wait_ready(
            server, lambda: client.get("/healthcheck"), name="the server", log=lambda: tail(log)
        )
        cases = await build_cases(client)
        await check_cases(client, cases)
        print("All queries answer 200 with data and no errors. Measuring:")
        return [await measure(client, server, case, options, meter) for case in cases]


# --------------------------------------------------------------------------------------------
# Report


def header(url: str, options: Options, rows: list[Row]) -> str:
    cpu = ", ".join(f"{row.name} {optional(row.server_cpu_ms)}" for row in rows)
    return (
        f"Broadsheet benchmark, {date.today().isoformat()}: "
        f"dialect {make_url(url).get_backend_name()} ({database_version(url)}), "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{load_generator(options)}, {options.connections} connections, "
        f"{options.duration:g} s per query after {options.warmup:g} s warm-up; "
        f"server process CPU ms/request: {cpu}"
    )


def load_generator(options: Options) -> str:
    if options.load == "wrk":
        return f"server on core {SERVER_CORE}, wrk on core {LOAD_CORE}"
    return "Python load generator on the same cores"


def optional(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| query | requests | req/s | p50 ms | p90 ms | p99 ms | errors "
        "| server CPU ms/req | PostgreSQL CPU ms/req | client CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {row.name} | {row.requests} | {row.per_second:.1f} | {row.p50:.1f} "
        f"| {row.p90:.1f} | {row.p99:.1f} | {row.errors} | {optional(row.server_cpu_ms)} "
        f"| {optional(row.database_cpu_ms)} | {optional(row.client_cpu_ms)} |"
        for row in rows
    )
    return "\n".join(lines)


def footnote(rows: list[Row]) -> str:
    others = ", ".join(f"{row.name} {row.other_cpus:.2f}" for row in rows)
    lines = [
        "CPUs busy with other processes during the timed runs (machine CPU time minus "
        f"server, client and database): {others}"
    ]
    if all(row.new_connections is not None for row in rows):
        opened = ", ".join(f"{row.name} {row.new_connections}" for row in rows)
        lines.append(f"New PostgreSQL connections opened during the timed runs: {opened}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main


def bench(url: str, options: Options) -> None:
    prepare_database(url, reset=options.reset)
    pinned = options.load == "wrk"
    postmaster = None
    if pinned:  # this process only waits for wrk: keep it off the server's core
        os.sched_setaffinity(0, {LOAD_CORE})
        parsed = make_url(url)
        if is_postgresql(parsed):
            postmaster = run_event_loop(lambda: postgresql_activity(parsed)).postmaster_pid
    core = SERVER_CORE if pinned else None
    with contextlib.ExitStack() as stack:
        if postmaster is not None:  # PostgreSQL's backends share wrk's core, not the server's
            stack.enter_context(postgresql_pinned(postmaster, LOAD_CORE))
        base_url, server, log = stack.enter_context(running_server(url, options.overrides, core))
        changed = ", ".join(f"{key}={value}" for key, value in options.overrides.items())
        print(f"Server: uvicorn pid {server.pid} at {base_url} (production settings; {changed})")
        last_lines = f"\nThe server's last lines ({log}, removed on exit):\n"
        try:
            rows = run_event_loop(lambda: benchmark(base_url, server, log, url, options))
        except BenchError:
            print(last_lines + tail(log))
            raise
        if any(row.errors for row in rows) or server.poll() is not None:
            print(last_lines + tail(log))
    print()
    print(header(url, options, rows))
    print()
    print(table(rows))
    print()
    print(footnote(rows))
    failed = sum(row.errors for row in rows)
    if failed:
        raise BenchError(f"{failed} requests failed during the timed runs")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    raise_on_sigterm()
    scratch = None
    try:
        if options.database_url is None:
            scratch = Path(tempfile.mkdtemp(prefix="broadsheet-bench-"))
            url = f"sqlite+aiosqlite:///{scratch / 'bench.db'}"
        else:
            url = absolute_sqlite_url(options.database_url)
        print(f"Database: {make_url(url).render_as_string(hide_password=True)}")
        bench(url, options)
    except BenchError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
