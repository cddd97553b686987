"""Benchmark Broadsheet's GraphQL API on a seeded database of 10,000 posts.

Run from the repository root with the project's virtualenv active:

    python bench/run.py [--database-url URL] [--duration SECONDS] [--connections N]

It migrates and seeds the database (a fresh SQLite file unless told otherwise), starts the
server in its production configuration as a separate uvicorn process, checks that every
standard query answers correctly, then drives each one with concurrent keep-alive connections
and prints a markdown table of throughput, latency and CPU cost per request.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url

from db import models
from db.engine import Database
from service import migrations
from service.seeding import BENCH, seed

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HEALTH_TIMEOUT_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 30.0
VARIANTS_PER_QUERY = 20

HOMEPAGE = """
query Homepage {
  settings { title description navigation { label url } }
  posts(first: 15) {
    nodes {
      id title slug excerpt publishedAt featureImage readingTime
      primaryAuthor { name slug profileImage }
      authors { name slug }
      tags { name slug }
      primaryTag { name slug }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

AUTHOR_FIELDS = "id name slug bio profileImage coverImage website location"
TAG_FIELDS = "id name slug description featureImage visibility metaTitle metaDescription"
SINGLE_POST = f"""
query SinglePost($slug: String!) {{
  post(slug: $slug) {{
    id title slug html plaintext featureImage featureImageAlt featureImageCaption featured
    readingTime metaTitle metaDescription canonicalUrl ogImage publishedAt createdAt updatedAt
    status markdown excerpt url
    authors {{ {AUTHOR_FIELDS} }}
    primaryAuthor {{ {AUTHOR_FIELDS} }}
    tags {{ {TAG_FIELDS} }}
    primaryTag {{ {TAG_FIELDS} }}
  }}
}}
"""

TAG_ARCHIVE = """
query TagArchive($slug: String!) {
  tag(slug: $slug) {
    name description postCount
    posts(first: 20) {
      totalCount
      nodes { title slug publishedAt excerpt primaryAuthor { name } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

POST_SLUGS = f"query PostSlugs {{ posts(first: {VARIANTS_PER_QUERY * 5}) {{ nodes {{ slug }} }} }}"
TAG_SLUGS = f"query TagSlugs {{ tags(first: {VARIANTS_PER_QUERY}) {{ nodes {{ slug }} }} }}"


class BenchError(RuntimeError):
    """The benchmark cannot go on: the message says why."""


# --------------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class Options:
    database_url: str | None
    duration: float
    warmup: float
    connections: int
    reset: bool
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
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.warmup < 0 or args.connections < 1:
        parser.error("--duration must be > 0, --warmup >= 0 and --connections >= 1")
    overrides = {
        "BROADSHEET_RESPONSE_CACHE": str(args.response_cache == "on").lower(),
        "BROADSHEET_COMPILED_QUERIES": args.compiled_queries,
    }
    return Options(
        args.database_url, args.duration, args.warmup, args.connections, args.reset, overrides
    )


# --------------------------------------------------------------------------------------------
# The database: create, migrate, seed


def absolute_sqlite_url(url: str) -> str:
    """The same URL, with a relative SQLite path made absolute (the server runs elsewhere)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return url
    if parsed.database in (None, "", ":memory:"):
        raise BenchError("an in-memory SQLite database cannot be shared with the server process")
    absolute = parsed.set(database=str(Path(parsed.database).resolve()))
    return absolute.render_as_string(hide_password=False)


def is_postgresql(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


async def connect_postgresql(url: URL, database: str | None) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database=database
    )


async def ensure_postgresql_database(url: URL) -> None:
    """Create the database `url` names, connecting to the `postgres` database to do it."""
    connection = await connect_postgresql(url, "postgres")
    try:
        exists = await connection.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", url.database
        )
        if not exists:
            name = str(url.database).replace('"', '""')
            await connection.execute(f'CREATE DATABASE "{name}"')
            print(f"Created PostgreSQL database {url.database!r}.")
    finally:
        await connection.close()


async def drop_peer_schema(url: URL) -> None:
    """Drop the `bench_peer` schema bench/compare.py makes: its function depends on `posts`,
    which would stop `alembic downgrade base` from dropping the table."""
    connection = await connect_postgresql(url, url.database)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS bench_peer CASCADE")
    finally:
        await connection.close()


async def settle_postgresql(url: URL) -> None:
    """Gather planner statistics, as autovacuum would soon after seeding (when it is on), and
    write the bulk load out now rather than in the background during the timed runs."""
    connection = await connect_postgresql(url, url.database)
    try:
        await connection.execute("ANALYZE")
        try:
            await connection.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            print("(CHECKPOINT needs a superuser or pg_checkpoint: skipped)")
    finally:
        await connection.close()


async def _count(db: Database, statement: Any) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(statement) or 0)


async def content_state(url: str) -> str:
    """'bench' when the database holds the benchmark data set, 'empty', or 'other'."""
    db = Database.connect(url)
    try:
        users = await _count(db, select(func.count()).select_from(models.User))
        tags = await _count(db, select(func.count()).select_from(models.Tag))
        posts = await _count(
            db,
            select(func.count())
            .select_from(models.Post)
            .where(models.Post.type == models.PostType.POST)
            .where(models.Post.status == models.PostStatus.PUBLISHED),
        )
        links = await _count(db, select(func.count()).select_from(models.PostTag))
    finally:
        await db.dispose()
    if (users, tags, posts, links) == (
        BENCH.authors,
        BENCH.tags,
        BENCH.posts,
        BENCH.posts * BENCH.tags_per_post,
    ):
        return "bench"
    return "empty" if users == tags == posts == 0 else "other"


async def seed_bench(url: str) -> None:
    db = Database.connect(url)
    try:
        await seed(db, BENCH)
    finally:
        await db.dispose()


def prepare_database(url: str, *, reset: bool) -> None:
    """Migrate to head and seed the benchmark data set unless the database already holds it."""
    parsed = make_url(url)
    if is_postgresql(parsed):
        asyncio.run(ensure_postgresql_database(parsed))
    if reset:
        if is_postgresql(parsed):
            asyncio.run(drop_peer_schema(parsed))
        print("Emptying the database (alembic downgrade base) ...")
        migrations.downgrade(url, "base")
    migrations.upgrade(url)
    seed_unless_present(url)
    if is_postgresql(parsed):
        print("ANALYZE (planner statistics, as autovacuum would gather them) and CHECKPOINT.")
        asyncio.run(settle_postgresql(parsed))


def seed_unless_present(url: str) -> None:
    state = asyncio.run(content_state(url))
    if state == "bench":
        print("The database already holds the benchmark data set: not seeding.")
        return
    if state == "other":
        raise BenchError(
            "the database holds content other than the benchmark data set; "
            "pass --reset to empty it (this deletes everything in it)"
        )
    print(
        f"Seeding {BENCH.posts:,} posts, {BENCH.authors} authors, {BENCH.tags} tags "
        f"({BENCH.tags_per_post} tags per post) ..."
    )
    started = time.perf_counter()
    asyncio.run(seed_bench(url))
    print(f"Seeded in {time.perf_counter() - started:.1f} s.")


# --------------------------------------------------------------------------------------------
# The server process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(url: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without BROADSHEET_* variables, plus production settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("BROADSHEET_")}
    env.update(
        BROADSHEET_ENV="production",
        BROADSHEET_SECRET_KEY=secrets.token_hex(32),
        BROADSHEET_DATABASE_URL=url,
        BROADSHEET_GRAPHIQL="false",
        BROADSHEET_DEBUG="false",
        BROADSHEET_SQL_ECHO="false",
    )
    env.update(overrides or {})
    return env


def start_server(
    url: str, port: int, workdir: Path, overrides: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    # The working directory is an empty one, so no stray .env file changes the settings.
    command = [
        sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, env=server_environment(url, overrides), cwd=workdir)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def wait_ready(
    process: subprocess.Popen[bytes],
    ask: Callable[[], Awaitable[httpx.Response]],
    *,
    name: str,
    within: float = HEALTH_TIMEOUT_SECONDS,
    log: Callable[[], str] = str,
) -> None:
    """Until `ask()` answers 200: a server that exits or stays unready fails the run, with
    the last answer and `log()` (the tail of its output) in the error."""
    deadline = time.monotonic() + within
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{name} exited with status {process.returncode} on start-up\n{log()}")
        try:
            response = await ask()
        except httpx.TransportError as error:
            last = repr(error)
        else:
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:500]}"
        await asyncio.sleep(0.2)
    raise BenchError(f"{name} was not ready in time (last: {last})\n{log()}")


@contextlib.contextmanager
def running_server(
    url: str, overrides: Mapping[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run the production server; yield its base URL and process; always stop it."""
    workdir = Path(tempfile.mkdtemp(prefix="broadsheet-bench-server-"))
    port = free_port()
    process = start_server(url, port, workdir, overrides)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        stop_server(process)
        shutil.rmtree(workdir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# CPU accounting from /proc


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on, or None if the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()  # what follows "pid (comm)"


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` (all its threads), 0.0 if it is gone."""
    fields = stat_fields(pid)
    return 0.0 if fields is None else (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def reaped_children_cpu_seconds(pid: int) -> float | None:
    """CPU time of the children `pid` has waited for (cutime + cstime)."""
    fields = stat_fields(pid)
    return None if fields is None else (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


def parent_pid(pid: int) -> int | None:
    fields = stat_fields(pid)
    return None if fields is None else int(fields[1])


def descendants(pid: int) -> list[int]:
    """`pid` and its children, grandchildren, ... (uvicorn with one worker has none)."""
    family = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                family.extend(descendants(int(child)))
    return family


def tree_cpu_seconds(pid: int) -> float:
    return sum(process_cpu_seconds(member) for member in descendants(pid))


@dataclass(frozen=True)
class PostgresqlActivity:
    backend_pids: list[int]
    sessions: int | None  # connections ever opened to the database (PostgreSQL 14+)
    postmaster_pid: int | None  # None when /proc does not show the server (a remote one)


async def postgresql_activity(url: URL) -> PostgresqlActivity:
    """The backends connected to the benchmark database (other than our own) and its
    session counter."""
    connection = await connect_postgresql(url, "postgres")
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            url.database,
        )
        postmaster = parent_pid(await connection.fetchval("SELECT pg_backend_pid()"))
        try:
            sessions = await connection.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = $1", url.database
            )
        except asyncpg.UndefinedColumnError:
            sessions = None
    finally:
        await connection.close()
    return PostgresqlActivity([int(row["pid"]) for row in rows], sessions, postmaster)


def machine_busy_seconds() -> float:
    """CPU seconds all processors have spent not idle since boot (from /proc/stat)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = ticks[:7]  # guest time is inside user
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def backends_cpu_seconds(pids: list[int]) -> dict[int, float] | None:
    """CPU seconds per backend pid; None when /proc cannot see them (a remote server)."""
    seconds = {pid: process_cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}").exists()}
    return seconds or None


@dataclass(frozen=True)
class CpuSnapshot:
    server: float
    backends: dict[int, float] | None
    reaped: float | None
    sessions: int | None
    client: float
    machine: float
    wall: float


def database_cpu_delta(before: CpuSnapshot, after: CpuSnapshot) -> float | None:
    """CPU the database used in between: its live backends (new ones started from zero), plus
    the backends that exited meanwhile (the postmaster's reaped children: the server's pool
    closes overflow connections, and any other database's backends count here too)."""
    if before.backends is None or after.backends is None:
        return None
    live = sum(spent - before.backends.get(pid, 0.0) for pid, spent in after.backends.items())
    if before.reaped is None or after.reaped is None:
        return live
    return live + after.reaped - before.reaped


@dataclass(frozen=True)
class CpuMeter:
    """CPU seconds used by the server, the database backends (PostgreSQL) and this client."""

    server_pid: int
    database_url: URL | None

    async def read(self) -> CpuSnapshot:
        backends, reaped, sessions = None, None, None
        if self.database_url is not None:
            activity = await postgresql_activity(self.database_url)
            backends = backends_cpu_seconds(activity.backend_pids)
            if activity.postmaster_pid is not None:
                reaped = reaped_children_cpu_seconds(activity.postmaster_pid)
            sessions = activity.sessions
        return CpuSnapshot(
            tree_cpu_seconds(self.server_pid),
            backends,
            reaped,
            sessions,
            time.process_time(),
            machine_busy_seconds(),
            time.perf_counter(),
        )


def new_sessions(before: CpuSnapshot, after: CpuSnapshot) -> int | None:
    if before.sessions is None or after.sessions is None:
        return None
    return after.sessions - before.sessions


def other_load(before: CpuSnapshot, after: CpuSnapshot) -> float:
    """CPUs' worth of work done by processes other than server, client and database."""
    ours = (after.server - before.server) + (after.client - before.client)
    ours += database_cpu_delta(before, after) or 0.0
    return max(0.0, (after.machine - before.machine) - ours) / (after.wall - before.wall)


# --------------------------------------------------------------------------------------------
# Queries


@dataclass(frozen=True)
class QueryCase:
    """A named query and the variable sets its requests cycle through."""

    name: str
    query: str
    variables: list[dict[str, Any]] = field(default_factory=lambda: [{}])

    def bodies(self) -> list[bytes]:
        return [json.dumps({"query": self.query, "variables": v}).encode() for v in self.variables]


async def graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    """Post one query; return its `data`, or raise BenchError describing what went wrong."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    if response.status_code != 200:
        raise BenchError(f"HTTP {response.status_code}: {response.text[:2000]}")
    body = response.json()
    if body.get("errors"):
        raise BenchError(f"GraphQL errors: {json.dumps(body['errors'], indent=2)}")
    if not body.get("data"):
        raise BenchError(f"no data in the answer: {response.text[:2000]}")
    return body["data"]


def empty_parts(value: Any, path: str = "data") -> list[str]:
    """Paths of null top-level fields and of empty `nodes` lists: answers that prove nothing."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if (item is None and path == "data") or (key == "nodes" and not item):
                found.append(f"{path}.{key}")
            else:
                found.extend(empty_parts(item, f"{path}.{key}"))
        return found
    if isinstance(value, list):
        return [gap for item in value for gap in empty_parts(item, path)]
    return []


def spread(items: list[str], count: int) -> list[str]:
    """Up to `count` items evenly spread over `items`."""
    step = max(1, len(items) // count)
    return items[::step][:count]


async def build_cases(client: httpx.AsyncClient) -> list[QueryCase]:
    """The three standard queries, with real slugs taken from the seeded data."""
    post_slugs = [
        node["slug"] for node in (await graphql(client, POST_SLUGS, {}))["posts"]["nodes"]
    ]
    tag_slugs = [node["slug"] for node in (await graphql(client, TAG_SLUGS, {}))["tags"]["nodes"]]
    if not post_slugs or not tag_slugs:
        raise BenchError("the seeded database has no posts or no tags visible to readers")
    return [
        QueryCase("homepage", HOMEPAGE),
        QueryCase(
            "single post",
            SINGLE_POST,
            [{"slug": slug} for slug in spread(post_slugs, VARIANTS_PER_QUERY)],
        ),
        QueryCase(
            "tag archive",
            TAG_ARCHIVE,
            [{"slug": slug} for slug in spread(tag_slugs, VARIANTS_PER_QUERY)],
        ),
    ]


async def check_cases(client: httpx.AsyncClient, cases: list[QueryCase]) -> None:
    """Every variant of every query answers 200, without errors, with data: else fail loudly."""
    for case in cases:
        for variables in case.variables:
            try:
                data = await graphql(client, case.query, variables)
            except BenchError as error:
                raise BenchError(f"query {case.name!r} {variables} failed: {error}") from None
            gaps = empty_parts(data)
            if gaps:
                raise BenchError(f"query {case.name!r} {variables} answered empty: {gaps}")


# --------------------------------------------------------------------------------------------
# Load


@dataclass
class Run:
    """What one timed run of one query observed."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0


def answered_well(response: httpx.Response) -> bool:
    if response.status_code != 200:
        return False
    body = response.json()
    return not body.get("errors") and bool(body.get("data"))


async def hammer(
    client: httpx.AsyncClient, bodies: list[bytes], connections: int, seconds: float
) -> Run:
    """Send `bodies` round-robin on `connections` concurrent loops for `seconds`."""
    run = Run()
    headers = {"content-type": "application/json"}
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(offset: int) -> None:
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
            run.latencies.append(time.perf_counter() - begin)
            run.errors += not good

    await asyncio.gather(*(loop(index) for index in range(connections)))
    run.seconds = time.perf_counter() - started
    return run


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


async def measure(
    client: httpx.AsyncClient, case: QueryCase, options: Options, meter: CpuMeter
) -> Row:
    bodies = case.bodies()
    print(f"  {case.name}: {options.warmup:g} s warm-up, {options.duration:g} s timed ...")
    await hammer(client, bodies, options.connections, options.warmup)
    before = await meter.read()
    run = await hammer(client, bodies, options.connections, options.duration)
    after = await meter.read()
    latencies = sorted(run.latencies)
    requests = len(latencies)
    return Row(
        name=case.name,
        requests=requests,
        per_second=requests / run.seconds,
        p50=percentile(latencies, 0.50) * 1000,
        p90=percentile(latencies, 0.90) * 1000,
        p99=percentile(latencies, 0.99) * 1000,
        errors=run.errors,
        server_cpu_ms=per_request_ms(after.server - before.server, requests),
        database_cpu_ms=per_request_ms(database_cpu_delta(before, after), requests),
        client_cpu_ms=per_request_ms(after.client - before.client, requests),
        other_cpus=other_load(before, after),
        new_connections=new_sessions(before, after),
    )


async def benchmark(
    base_url: str, server: subprocess.Popen[bytes], url: str, options: Options
) -> list[Row]:
    parsed = make_url(url)
    meter = CpuMeter(server.pid, parsed if is_postgresql(parsed) else None)
    limits = httpx.Limits(
        max_connections=options.connections, max_keepalive_connections=options.connections
    )
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS
    ) as client:
        await wait_ready(server, lambda: client.get("/healthcheck"), name="the server")
        cases = await build_cases(client)
        await check_cases(client, cases)
        print("All queries answer 200 with data and no errors. Measuring:")
        return [await measure(client, case, options, meter) for case in cases]


# --------------------------------------------------------------------------------------------
# Report


def database_version(url: str) -> str:
    parsed = make_url(url)
    if not is_postgresql(parsed):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"

    async def fetch() -> str:
        connection = await connect_postgresql(parsed, parsed.database)
        try:
            return str(await connection.fetchval("SHOW server_version"))
        finally:
            await connection.close()

    return f"PostgreSQL {asyncio.run(fetch()).split()[0]}"


def header(url: str, options: Options, rows: list[Row]) -> str:
    cpu = ", ".join(f"{row.name} {optional(row.server_cpu_ms)}" for row in rows)
    return (
        f"Broadsheet benchmark, {date.today().isoformat()}: "
        f"dialect {make_url(url).get_backend_name()} ({database_version(url)}), "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{options.connections} connections, {options.duration:g} s per query "
        f"after {options.warmup:g} s warm-up; server process CPU ms/request: {cpu}"
    )


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


def run_event_loop(main: Callable[[], Any]) -> Any:
    """Run a coroutine function on uvloop when it is installed (a cheaper load generator)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


def raise_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so the server is stopped by the `finally` blocks."""

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def bench(url: str, options: Options) -> None:
    prepare_database(url, reset=options.reset)
    with running_server(url, options.overrides) as (base_url, server):
        changed = ", ".join(f"{key}={value}" for key, value in options.overrides.items())
        print(f"Server: uvicorn pid {server.pid} at {base_url} (production settings; {changed})")
        rows = run_event_loop(lambda: benchmark(base_url, server, url, options))
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
