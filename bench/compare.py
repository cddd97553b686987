"""Broadsheet side by side with PostGraphile and a raw asyncpg baseline (issue 7), and its
response cache with a bare ASGI app answering the same bytes (issue 15).

Run from the repository root with the project's virtualenv active:

    python bench/compare.py [--duration 8] [--warmup 2] [--connections 16] [--repetitions 3]

It seeds the PostgreSQL database `bench` (as bench/run.py does), starts the servers as
single processes pinned to one core, pins PostgreSQL to the other core, checks that every
server returns the same content for every query, then drives each (server, query) pair with
wrk from PostgreSQL's core, in interleaved repetitions, and prints (and writes to
bench/RESULTS.md) the medians: req/s, p50/p99, server CPU and SQL statements per request,
memory, and the CPU ratios between the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import cases
import cpu
import httpx
import processes
from bare_app import ANSWERS_PATH
from database import connect_postgresql, database_version, prepare_database
from errors import BenchError
from load import Cell, DatabaseCpu, Load, Statements, lua_script, measure
from queries import PEER_SCHEMA_SQL, QUERIES, SEARCH_TERMS, Query, first_difference
from servers import (
    BENCH_DIR,
    BROADSHEETS,
    DEFAULT_SERVERS,
    POSTGRAPHILE_DIR,
    SERVER_KEYS,
    Server,
    ensure_node_modules,
    make_servers,
    running,
    wait_ready,
)
from sqlalchemy.engine import URL, make_url
from wire import StatementProxy

RESULTS = BENCH_DIR / "RESULTS.md"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
VARIANTS = 20
JSON_HEADERS = {"content-type": "application/json"}
# Headers uvicorn adds to every answer itself (bare's too), and the length bare_app adds.
NOT_REPLAYED = frozenset({b"date", b"server", b"content-length"})
WIRE_BATCH = 20  # concurrent requests of the count on the wire
WIRE_BATCHES = 3  # counted batches per (server, query), after two uncounted ones
# Broadsheet's event runner looks for due schedules and deliveries every 0.5 s however busy
# the server is: statements of the clock, not of requests. Slowed down while requests are
# counted on the wire (their short windows would charge them to a few dozen requests); the
# timed runs keep the default.
WIRE_ENVIRONMENT = {"BROADSHEET_EVENTS_POLL_SECONDS": "3600"}
IDLE_SECONDS = 10  # how long the servers' CPU is watched with no request at all
MARK_START = "<!-- compare.py: start -->"
MARK_END = "<!-- compare.py: end -->"


# --------------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class Options:
    database_url: str
    load: Load
    repetitions: int
    servers: list[str]
    queries: list[str]
    reset: bool
    write: bool


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--database-url", default=DEFAULT_URL, help=f"PostgreSQL URL (default {DEFAULT_URL})")
    add("--duration", type=int, default=8, help="timed seconds per cell (default 8)")
    add("--warmup", type=int, default=2, help="untimed seconds before each cell (default 2)")
    add("--connections", type=int, default=16, help="wrk connections (default 16)")
    add("--repetitions", type=int, default=3, help="interleaved repetitions (default 3)")
    add("--timeout", type=int, default=10, help="wrk request timeout in seconds (default 10)")
    add("--server-core", type=int, default=0, help="the core of the servers (default 0)")
    add("--load-core", type=int, default=1, help="the core of wrk and PostgreSQL (default 1)")
    add(
        "--servers",
        default=",".join(DEFAULT_SERVERS),
        help=f"comma-separated, of {','.join(SERVER_KEYS)} (default all; cached: Broadsheet "
        "with its response cache on; bare: Broadsheet's answers replayed by a bare ASGI app)",
    )
    add(
        "--queries",
        default=",".join(q.key for q in QUERIES),
        help=f"comma-separated subset of {','.join(q.key for q in QUERIES)}",
    )
    add("--reset", action="store_true", help="empty the database first and reseed it")
    add("--no-write", action="store_true", help="print the report; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    servers = [s for s in args.servers.split(",") if s]
    queries = [q for q in args.queries.split(",") if q]
    if not set(servers) <= set(SERVER_KEYS) or not servers:
        parser.error(f"--servers takes some of {', '.join(SERVER_KEYS)}")
    if "bare" in servers and not set(BROADSHEETS) & set(servers):
        parser.error("--servers: bare replays Broadsheet's answers: add broadsheet or cached")
    if not set(queries) <= {q.key for q in QUERIES} or not queries:
        parser.error(f"--queries takes some of {', '.join(q.key for q in QUERIES)}")
    if args.duration < 1 or args.warmup < 0 or args.connections < 1 or args.repetitions < 1:
        parser.error("--duration, --connections, --repetitions must be >= 1, --warmup >= 0")
    if make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("--database-url must be a PostgreSQL URL")
    load = Load(
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        timeout=args.timeout,
        server_core=args.server_core,
        load_core=args.load_core,
    )
    return Options(
        database_url=args.database_url,
        load=load,
        repetitions=args.repetitions,
        servers=[s for s in SERVER_KEYS if s in servers],
        queries=[q.key for q in QUERIES if q.key in queries],
        reset=args.reset,
        write=not args.no_write,
    )


# --------------------------------------------------------------------------------------------
# The database


async def prepare_peers(url: URL) -> bool:
    """PostGraphile's search function, outside Alembic's schema, and pg_stat_statements:
    whether it is usable (it is only when PostgreSQL preloads it)."""
    connection = await connect_postgresql(url, url.database)
    try:
        await connection.execute(PEER_SCHEMA_SQL)
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await connection.fetchval("SELECT count(*) FROM pg_stat_statements")
        except asyncpg.PostgresError as error:
            print(
                f"pg_stat_statements is not usable ({error}): statements are counted on the "
                "wire instead, in a pass of their own (bench/wire.py)."
            )
            return False
        return True
    finally:
        await connection.close()


async def variables_for(connection: asyncpg.Connection) -> dict[str | None, list[Any]]:
    """The values each query's variants rotate through, taken from the seeded data."""
    slugs = await connection.fetch(
        "SELECT slug FROM posts WHERE type = 'post' AND status <> 'draft' "
        "AND published_at <= now() ORDER BY id"
    )
    tags = await connection.fetch("SELECT slug FROM tags WHERE visibility = 'public' ORDER BY id")
    if not slugs or not tags:
        raise BenchError("the database has no published posts or no public tags")
    return {
        None: [None],
        "slug": cases.spread([row["slug"] for row in slugs], VARIANTS),
        "tag": cases.spread([row["slug"] for row in tags], VARIANTS),
        "q": SEARCH_TERMS[:VARIANTS],
    }


def variants(query: Query, values: dict[str | None, list[Any]]) -> list[dict[str, Any]]:
    if query.variable is None:
        return [{}]
    return [{query.variable: value} for value in values[query.variable]]


# --------------------------------------------------------------------------------------------
# Checking that the servers agree


async def fetch_data(client: httpx.AsyncClient, server: Server, body: bytes) -> dict[str, Any]:
    response = await client.post(
        server.base_url + "/graphql", content=body, headers={"content-type": "application/json"}
    )
    if response.status_code != 200:
        raise BenchError(f"HTTP {response.status_code}: {response.text[:2000]}")
    answer = response.json()
    if answer.get("errors") or not answer.get("data"):
        raise BenchError(f"errors or no data: {json.dumps(answer)[:2000]}")
    return dict(answer["data"])


async def check_agreement(
    client: httpx.AsyncClient,
    servers: list[Server],
    queries: list[Query],
    values: dict[str | None, list[Any]],
) -> None:
    """Every server answers every variant with the same content, and it is not empty."""
    for query in queries:
        for variables in variants(query, values):
            answers = {}
            for server in servers:
                body = server.body(query, variables)
                try:
                    answers[server.key] = server.data(query, await fetch_data(client, server, body))
                except (BenchError, KeyError, TypeError, ValueError) as error:
                    raise BenchError(
                        f"{server.name}, query {query.key!r} {variables}: {error!r}"
                    ) from None
            reference_key = servers[0].key
            reference = answers[reference_key]
            gaps = cases.empty_parts(reference)
            if gaps:
                raise BenchError(f"query {query.key!r} {variables} answered empty: {gaps}")
            for server in servers[1:]:
                difference = first_difference(reference, answers[server.key])
                if difference:
                    raise BenchError(
                        f"CONTENT MISMATCH on query {query.key!r} {variables}: "
                        f"{servers[0].name} vs {server.name}: {difference}"
                    )
    print(
        f"Content check: {', '.join(s.name for s in servers)} return the same content "
        f"for every variant of {len(queries)} queries."
    )


async def install_floor(
    client: httpx.AsyncClient,
    servers: list[Server],
    queries: list[Query],
    values: dict[str | None, list[Any]],
) -> None:
    """Ask Broadsheet every variant once and give bare_app its answers, byte for byte: its
    status, headers and body. When both Broadsheets run, their bodies must be identical (the
    cache answers what the compiled statement made)."""
    broadsheets = [server for server in servers if server.key in BROADSHEETS]
    bare = next(server for server in servers if server.key == "bare")
    table = []
    for query in queries:
        for variables in variants(query, values):
            body = broadsheets[0].body(query, variables)
            answers = [
                await client.post(s.base_url + "/graphql", content=body, headers=JSON_HEADERS)
                for s in broadsheets
            ]
            if any(answer.content != answers[0].content for answer in answers[1:]):
                raise BenchError(f"query {query.key!r} {variables}: the Broadsheets' bodies differ")
            first = answers[0]
            headers = [
                [name.decode("latin-1"), value.decode("latin-1")]
                for name, value in first.headers.raw
                if name.lower() not in NOT_REPLAYED
            ]
            table.append(
                {
                    "request": body.decode(),
                    "status": first.status_code,
                    "headers": headers,
                    "body": first.content.decode(),
                }
            )
    response = await client.put(bare.base_url + ANSWERS_PATH, content=json.dumps(table).encode())
    if response.status_code != 200:
        raise BenchError(f"{bare.name} refused the answers: {response.status_code}")
    print(f"{bare.name}: {len(table)} answers of {broadsheets[0].name} installed.")


async def count_on_wire(
    client: httpx.AsyncClient,
    url: URL,
    options: Options,
    queries: list[Query],
    values: dict[str | None, list[Any]],
) -> dict[tuple[str, str], tuple[float, float]]:
    """(statements, transaction control) per request of each (query, server), counted by
    proxies in front of PostgreSQL (wire.py), one per server (what the others do meanwhile,
    such as a listener's ping, is not counted against it), for servers started again for
    this. Untimed; requests go WIRE_BATCH at a time, as concurrent as under wrk."""
    proxies: dict[str, StatementProxy] = {}
    servers: list[Server] = []
    counts: dict[tuple[str, str], tuple[float, float]] = {}
    try:
        for key in options.servers:
            proxy = StatementProxy(url.host or "127.0.0.1", url.port or 5432)
            await proxy.start()
            proxied = url.set(host="127.0.0.1", port=proxy.port)
            [server] = make_servers(proxied.render_as_string(hide_password=False), [key])
            if not server.database:
                await proxy.close()
                continue
            if key in BROADSHEETS:
                server.env.update(WIRE_ENVIRONMENT)
            proxies[key] = proxy
            servers.append(server)
        with contextlib.ExitStack() as stack:
            stack.enter_context(running(servers, options.load.server_core))
            for server in servers:
                await wait_ready(client, server)
            for server in servers:
                for query in queries:
                    bodies = [server.body(query, v) for v in variants(query, values)]
                    counted = await count_requests(client, server, proxies[server.key], bodies)
                    counts[(query.key, server.key)] = counted
            # Stopped off the event loop: the proxies must pass their goodbyes on.
            await asyncio.to_thread(stack.close)
    finally:
        for proxy in proxies.values():
            await proxy.close()
    for query in queries:
        for key in options.servers:
            counts.setdefault((query.key, key), (0.0, 0.0))  # no database, no statement
    print(f"Statements counted on the wire: {', '.join(s.name for s in servers)}.")
    return counts


async def count_requests(
    client: httpx.AsyncClient, server: Server, proxy: StatementProxy, bodies: list[bytes]
) -> tuple[float, float]:
    batch = [bodies[i % len(bodies)] for i in range(max(len(bodies), WIRE_BATCH))]
    # Uncounted: the first request of each document plans it and fills the cache, pools
    # open their connections, and the cache's listener connects (until it has, every request
    # checks the generation).
    for _ in range(2):
        await asyncio.gather(*(fetch_data(client, server, body) for body in batch))
    proxy.take()
    for _ in range(WIRE_BATCHES):
        await asyncio.gather(*(fetch_data(client, server, body) for body in batch))
    counted = proxy.take()
    requests = WIRE_BATCHES * len(batch)
    return counted.statements / requests, counted.control / requests


# --------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class Summary:
    server: str
    query: str
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    cpu_min: float
    cpu_max: float
    statements: float  # NaN when every repetition's count was spoilt
    control: float
    database_cpu_ms: float
    new_connections: int
    spoilt: int  # repetitions whose statement count someone else's reset spoilt
    rss_mb: float
    hwm_mb: float
    errors: int
    core_others: float


def median_or_nan(values: list[float | None]) -> float:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else math.nan


def summarise(cells: list[Cell], on_wire: tuple[float, float] | None) -> Summary:
    """Medians of one (query, server)'s cells; `on_wire`: its statement counts when they
    were counted on the wire, not by pg_stat_statements during the timed runs."""
    median = statistics.median
    cpu = [c.cpu_ms for c in cells]
    counted = [(c.statements, c.control) for c in cells] if on_wire is None else [on_wire]
    return Summary(
        server=cells[0].server,
        query=cells[0].query,
        per_second=median(c.wrk.per_second for c in cells),
        p50_ms=median(c.wrk.p50_ms for c in cells),
        p99_ms=median(c.wrk.p99_ms for c in cells),
        cpu_ms=median(cpu),
        cpu_min=min(cpu),
        cpu_max=max(cpu),
        statements=median_or_nan([statements for statements, _ in counted]),
        control=median_or_nan([control for _, control in counted]),
        database_cpu_ms=median(c.database_cpu_ms for c in cells),
        new_connections=sum(c.new_connections for c in cells),
        spoilt=sum(statements is None for statements, _ in counted),
        rss_mb=cells[-1].rss_mb,
        hwm_mb=max(c.hwm_mb for c in cells),
        errors=sum(c.wrk.errors for c in cells),
        core_others=max(c.core_others for c in cells),
    )


def command_output(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)
    except OSError:
        return "n/a"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else ""


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine(url: URL, started: datetime, finished: datetime, pinned: bool) -> list[str]:
    package_json = POSTGRAPHILE_DIR / "node_modules/postgraphile/package.json"
    postgraphile = (
        json.loads(package_json.read_text())["version"] if package_json.exists() else "not run"
    )
    commit = command_output(["git", "-C", str(BENCH_DIR), "rev-parse", "--short", "HEAD"])
    dirty = command_output(["git", "-C", str(BENCH_DIR), "status", "--porcelain"])
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return [
        f"- Run: {started:%Y-%m-%d %H:%M} - {finished:%H:%M} UTC, Broadsheet at commit {commit}"
        + (" plus uncommitted changes in the working tree" if dirty else ""),
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores, {memory:.0f} GiB RAM; "
        f"kernel {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, Node {command_output(['node', '--version'])}, "
        f"{database_version(url.render_as_string(hide_password=False))}, "
        f"PostGraphile {postgraphile}, "
        f"wrk {wrk_version()}",
        "- PostgreSQL pinned to the load core: " + ("yes" if pinned else "NO (see the log)"),
    ]


def wrk_version() -> str:
    found = re.search(r"\d+(\.\d+)+", command_output(["wrk", "-v"]))
    return found.group(0) if found else "(version unknown)"


def fmt(value: float, digits: int = 2) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator > 0 else "n/a"


def report(
    summaries: list[Summary],
    options: Options,
    servers: list[Server],
    header: list[str],
    counting: bool,
    idle: dict[str, float],
) -> str:
    names = {server.key: server.name for server in servers}
    titles = {query.key: query.title for query in QUERIES}
    by = {(s.query, s.server): s for s in summaries}
    if counting:
        sql_note = (
            "- SQL/req: `pg_stat_statements` calls in the benchmark database during the timed "
            "run ÷ requests, without transaction control (BEGIN/COMMIT/ROLLBACK/SAVEPOINT/"
            "RELEASE); those add per request (median over queries): {control}. Requests "
            "still in flight when wrk stops (up to one per connection) have run their "
            "statements without being counted among the requests: at about 10 requests a "
            "second that adds up to 0.2. Statements of the other, idle, servers in the same "
            "window count too (Broadsheet, cached, pings its notification connection every 5 s)."
        )
    else:
        sql_note = (
            "- SQL/req: PostgreSQL had no `pg_stat_statements` (not in "
            "`shared_preload_libraries`), so statements were counted on the wire before the "
            "timed runs (`bench/wire.py`): each server started again behind a proxy that "
            "counts the Query and Execute messages it sends, then each query's variants sent "
            f"{WIRE_BATCH} at a time, {WIRE_BATCHES} times after two uncounted rounds "
            f"({WIRE_BATCHES * WIRE_BATCH} requests), without transaction control "
            "(BEGIN/COMMIT/…); those add per request (median over queries): {control}. "
            "bare ASGI never connects to PostgreSQL."
        )
    command = (
        f"python bench/compare.py --duration {options.load.duration} --warmup "
        f"{options.load.warmup} --connections {options.load.connections} --repetitions "
        f"{options.repetitions}"
    )
    if options.servers != DEFAULT_SERVERS:
        command += f" --servers {','.join(options.servers)}"
    if options.queries != [query.key for query in QUERIES]:
        command += f" --queries {','.join(options.queries)}"
    lines = [
        f"Command: `{command}`",
        "",
        *header,
        f"- Each server one process on core {options.load.server_core} (`taskset`); wrk -t1 "
        f"-c{options.load.connections} and PostgreSQL on core {options.load.load_core}; "
        f"{options.load.warmup} s warm-up + {options.load.duration} s timed per cell; "
        f"{options.repetitions} interleaved repetitions (every server on query 1, then query "
        "2, …, then again); medians shown.",
        "",
        "| query | server | req/s | p50 ms | p99 ms | CPU ms/req (min-max) | SQL/req "
        "| PG CPU ms/req | RSS MB (peak) | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for query in options.queries:
        for key in options.servers:
            s = by[(query, key)]
            lines.append(
                f"| {query} | {names[key]} | {fmt(s.per_second, 0)} | {fmt(s.p50_ms, 1)} "
                f"| {fmt(s.p99_ms, 1)} | {fmt(s.cpu_ms, 3)} ({fmt(s.cpu_min, 3)}-"
                f"{fmt(s.cpu_max, 3)}) | {fmt(s.statements, 1)} | {fmt(s.database_cpu_ms, 3)} "
                f"| {s.rss_mb:.0f} ({s.hwm_mb:.0f}) "
                f"| {s.errors} |"
            )
    if {"broadsheet", "postgraphile", "raw"} <= set(options.servers):
        lines += [
            "",
            "Server CPU per request, ratios (lower is better for Broadsheet):",
            "",
            "| query | Broadsheet ms | PostGraphile ms | raw ms | Broadsheet / PostGraphile "
            "| Broadsheet / raw | PostGraphile / raw |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for query in options.queries:
            b, p, r = (by[(query, k)].cpu_ms for k in ("broadsheet", "postgraphile", "raw"))
            lines.append(
                f"| {query} | {b:.3f} | {p:.3f} | {r:.3f} | {ratio(b, p)} | {ratio(b, r)} "
                f"| {ratio(p, r)} |"
            )
    if {"cached", "bare"} <= set(options.servers):
        lines += [
            "",
            "Cache hits against the floor: server CPU per request of Broadsheet, cached, and of "
            "the bare ASGI app answering the same bytes (lower is better for Broadsheet):",
            "",
            "| query | cached ms | bare ms | cached / bare | cached req/s | bare req/s |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for query in options.queries:
            c, f = by[(query, "cached")], by[(query, "bare")]
            lines.append(
                f"| {query} | {c.cpu_ms:.3f} | {f.cpu_ms:.3f} | {ratio(c.cpu_ms, f.cpu_ms)} "
                f"| {fmt(c.per_second, 0)} | {fmt(f.per_second, 0)} |"
            )
    others = sorted(s.core_others for s in summaries)
    control = ", ".join(
        f"{names[k]} {fmt(median_or_nan([s.control for s in summaries if s.server == k]), 1)}"
        for k in options.servers
    )
    spoilt = sum(s.spoilt for s in summaries)
    churn = {k: sum(s.new_connections for s in summaries if s.server == k) for k in options.servers}
    lines += [
        "",
        "Queries: " + "; ".join(f"**{key}**: {titles[key]}" for key in options.queries) + ".",
        "",
        "Notes:",
        "- Broadsheet runs its production settings (`BROADSHEET_ENV=production`, as "
        "`bench/run.py` starts it) with its response cache off (`BROADSHEET_RESPONSE_CACHE="
        'false`); "Broadsheet, cached" (when measured) is the same with the cache on, '
        "every request after the first of each variant being a cache hit.",
        "- bare ASGI (`bench/bare_app.py`, when measured): the same uvicorn command running "
        "an app that answers each request body with the status, headers and body Broadsheet "
        "answered it with (asked once at the start; uvicorn's date and server headers are "
        "its own), after one dict lookup by the body's bytes: the floor under a cache hit.",
        "- CPU ms/req: the server process's own user + system time (`/proc/<pid>/stat`, all "
        "threads) over the timed run ÷ requests wrk completed. PostgreSQL's CPU is not in it "
        "(see PG CPU ms/req).",
        sql_note.format(control=control)
        + (
            f" {spoilt} of {len(summaries) * options.repetitions} counts were thrown away: "
            "someone else reset pg_stat_statements during those timed runs."
            if spoilt
            else ""
        ),
        "- PG CPU ms/req: user + system time of the PostgreSQL backends connected to the "
        "benchmark database (`/proc`), over the timed run ÷ requests. Where it times req/s "
        "nears 1000, the database core, not the server, sets the pace. Backends that exit "
        "during a timed run are missed: "
        + (
            ", ".join(f"{names[k]} opened {n} new connections" for k, n in churn.items() if n)
            + " during the timed runs (pool overflow), so theirs are lower bounds."
            if any(churn.values())
            else "no server opened a new connection during the timed runs."
        ),
        idle_note(summaries, names, idle),
        "- RSS: VmRSS after the last timed run; peak: VmHWM over the whole run.",
        "- errors: wrk's socket errors (including timeouts after "
        f"{options.load.timeout} s), non-2xx answers and answers carrying GraphQL `errors`, "
        "summed over the repetitions.",
        "- Disturbance: other processes used a median "
        f"{statistics.median(others):.0%} (at most {others[-1]:.0%}) of the server core "
        "during the timed runs (the core's busy time minus the server's, worst repetition of "
        "each cell): well above 0 means the figures were disturbed.",
    ]
    return "\n".join(lines)


def idle_note(summaries: list[Summary], names: dict[str, str], idle: dict[str, float]) -> str:
    worst = max(summaries, key=lambda s: idle[s.server] / max(s.per_second, 1e-9))
    share = idle[worst.server] / max(worst.per_second, 1e-9)
    return (
        f"- Idle CPU ({IDLE_SECONDS} s with no request, before the timed runs): "
        + ", ".join(f"{names[key]} {ms:.1f} ms/s" for key, ms in idle.items())
        + ". A server's idle work (Broadsheet's event runner polls every 0.5 s on the worker "
        "holding its lock) is in its CPU per request as idle ÷ req/s; the most it adds to a "
        f"cell here: {names[worst.server]}, {worst.query}, {share:.3f} of its "
        f"{worst.cpu_ms:.3f} ms."
    )


def write_results(section: str) -> None:
    """Put `section` at the top of RESULTS.md; older content goes under "Earlier runs"."""
    block = f"{MARK_START}\n{section}\n{MARK_END}"
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if MARK_START in old and MARK_END in old:
        before, rest = old.split(MARK_START, 1)
        after = rest.split(MARK_END, 1)[1]
        RESULTS.write_text(before + block + after)
        return
    title, _, body = old.partition("\n")
    earlier = re.sub(r"^(#+) ", r"#\1 ", body.strip(), flags=re.MULTILINE)
    RESULTS.write_text(
        f"{title}\n\n## Side by side: Broadsheet, PostGraphile, raw asyncpg (`bench/compare.py`)"
        f"\n\n{block}\n\n## Earlier runs (`bench/run.py`, Broadsheet alone)\n\n{earlier}\n"
    )


# --------------------------------------------------------------------------------------------
# Main


async def compare(
    url: URL, servers: list[Server], options: Options, postmaster: int | None, counting: bool
) -> tuple[list[Summary], bool, dict[str, float]]:
    """`counting`: pg_stat_statements counts statements during the timed runs; else they are
    counted on the wire first."""
    queries = [q for q in QUERIES if q.key in options.queries]
    on_wire = {}
    # Idle connections are dropped well before the servers' keep-alive timeout (5 s): one
    # left waiting out a slow batch would otherwise be reused just as the server closes it.
    limits = httpx.Limits(keepalive_expiry=1.0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for server in servers:
            await wait_ready(client, server)
            print(f"{server.name}: pid {server.pid} at {server.base_url}")
        connection = await connect_postgresql(url, url.database)
        try:
            values = await variables_for(connection)
            if "bare" in options.servers:
                await install_floor(client, servers, queries, values)
            await check_agreement(client, servers, queries, values)
            if not counting:
                on_wire = await count_on_wire(client, url, options, queries, values)
            statements = Statements(connection) if counting else None
            with cpu.postgresql_pinned(postmaster, options.load.load_core) as pinned:
                idle = await idle_cpu(servers)
                database = DatabaseCpu(url)
                cells = await run_cells(servers, queries, values, statements, database, options)
        finally:
            await connection.close()
    groups: dict[tuple[str, str], list[Cell]] = {}
    for cell in cells:
        groups.setdefault((cell.query, cell.server), []).append(cell)
    return [summarise(group, on_wire.get(key)) for key, group in groups.items()], pinned, idle


async def idle_cpu(servers: list[Server]) -> dict[str, float]:
    """CPU ms per second each server spends with no request at all (pollers, pings, timers),
    all watched at once: X ms/s of its own adds X ÷ req/s to a cell's CPU per request, which
    tells in the slowest cells. Broadsheet's event runner, on the worker holding its lock,
    looks for due schedules and deliveries every 0.5 s."""
    print(f"Idle CPU: {IDLE_SECONDS} s with no requests ...")
    before = {server.key: cpu.process_cpu_seconds(server.pid) for server in servers}
    await asyncio.sleep(IDLE_SECONDS)
    return {
        server.key: (cpu.process_cpu_seconds(server.pid) - before[server.key]) * 1000 / IDLE_SECONDS
        for server in servers
    }


async def run_cells(
    servers: list[Server],
    queries: list[Query],
    values: dict[str | None, list[Any]],
    statements: Statements | None,
    database: DatabaseCpu,
    options: Options,
) -> list[Cell]:
    """Every (query, server) cell: each query on every server in turn, then the next query,
    and all of it again for each repetition."""
    total = options.repetitions * len(queries) * len(servers)
    print(
        f"Measuring {total} cells of {options.load.warmup} + {options.load.duration} s "
        f"(about {total * (options.load.warmup + options.load.duration + 1) / 60:.0f} min):"
    )
    cells = []
    with tempfile.TemporaryDirectory(prefix="broadsheet-wrk-") as scripts:
        for rep in range(1, options.repetitions + 1):
            for query in queries:
                for server in servers:
                    bodies = [server.body(query, v) for v in variants(query, values)]
                    script = lua_script(bodies, Path(scripts) / f"{server.key}-{query.key}.lua")
                    cell = await measure(
                        server,
                        query,
                        script,
                        statements=statements,
                        database=database,
                        load=options.load,
                        rep=rep,
                    )
                    cells.append(cell)
                    sql = "n/a" if cell.statements is None else f"{cell.statements:.1f}"
                    print(
                        f"  rep {rep} {query.key:9} {server.name:18} "
                        f"{cell.wrk.per_second:9.1f} req/s  p99 {cell.wrk.p99_ms:8.1f} ms  "
                        f"CPU {cell.cpu_ms:7.3f} ms/req  SQL {sql}/req  "
                        f"errors {cell.wrk.errors}"
                    )
    return cells


async def postmaster_pid(url: URL) -> int | None:
    connection = await connect_postgresql(url, url.database)
    try:
        # Read while our backend still exists: its parent is the postmaster.
        return cpu.parent_pid(await connection.fetchval("SELECT pg_backend_pid()"))
    finally:
        await connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    processes.raise_on_sigterm()
    url = make_url(options.database_url)
    try:
        for tool in ("wrk", "taskset", "node"):
            if shutil.which(tool) is None:
                raise BenchError(f"{tool} is not installed (see bench/README.md)")
        if "postgraphile" in options.servers:
            ensure_node_modules()
        prepare_database(options.database_url, reset=options.reset)
        counting = asyncio.run(prepare_peers(url))
        postmaster = asyncio.run(postmaster_pid(url))
        # This process only waits for wrk: keep it off the servers' core.
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {options.load.load_core})
        started = datetime.now(UTC)
        servers = make_servers(options.database_url, options.servers)
        with running(servers, options.load.server_core):
            summaries, pinned, idle = asyncio.run(
                compare(url, servers, options, postmaster, counting)
            )
        header = machine(url, started, datetime.now(UTC), pinned)
        section = report(summaries, options, servers, header, counting, idle)
    except BenchError as error:
        print(f"\nCOMPARISON FAILED: {error}", file=sys.stderr)
        return 1
    print()
    print(section)
    if options.write:
        write_results(section)
        print(f"\nWritten to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
