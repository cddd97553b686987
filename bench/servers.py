"""The servers bench/compare.py runs side by side, each one process on one core."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import processes
from errors import BenchError
from queries import Query, canonical
from sqlalchemy.engine import URL, make_url

from service.settings import Settings

BENCH_DIR = Path(__file__).resolve().parent
POSTGRAPHILE_DIR = BENCH_DIR / "peers" / "postgraphile"
START_TIMEOUT_SECONDS = 90.0


def libpq_url(url: URL) -> str:
    """`postgresql://…` for node-postgres and asyncpg."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Server:
    """One server process under test and how to talk to it."""

    key: str
    name: str
    command: list[str]
    env: dict[str, str]
    ready_path: str
    ready_body: bytes | None = None  # POST this to see it is ready; else GET
    database: bool = True  # False: it never connects (bare: no statement to count)
    port: int = field(default_factory=processes.free_port)
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def document(self, query: Query) -> str:
        return query.postgraphile if self.key == "postgraphile" else query.broadsheet

    def body(self, query: Query, variables: dict[str, Any]) -> bytes:
        document = self.document(query)
        payload = {"query": document, "operationName": query.operation, "variables": variables}
        return json.dumps(payload).encode()

    def data(self, query: Query, data: dict[str, Any]) -> Any:
        """The answer in canonical form (PostGraphile's first rewritten in Broadsheet's shape)."""
        return canonical(query.from_postgraphile(data) if self.key == "postgraphile" else data)


SERVER_KEYS = ["broadsheet", "cached", "postgraphile", "raw", "bare"]
DEFAULT_SERVERS = SERVER_KEYS
# The servers that are Broadsheet: bare answers what they answer.
BROADSHEETS = ("broadsheet", "cached")


def broadsheet_environment(url: str, *, cached: bool) -> dict[str, str]:
    """Production settings (as bench/run.py sets them), with the response cache off unless
    `cached`: the issue wants cached figures reported apart from uncached ones."""
    if "response_cache" not in Settings.model_fields:
        raise BenchError(
            "Broadsheet's settings have no `response_cache` any more: bench/servers.py cannot "
            "switch its response cache off; update it"
        )
    return processes.server_environment(url, {"BROADSHEET_RESPONSE_CACHE": str(cached).lower()})


def make_servers(url: str, keys: list[str]) -> list[Server]:
    libpq = libpq_url(make_url(url))
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--workers", "1"]
    quiet = ["--no-access-log", "--log-level", "warning"]
    broadsheet = [*uvicorn, *quiet, "--factory", "service.app:create_app"]
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")}
    servers = {
        "broadsheet": Server(
            "broadsheet",
            "Broadsheet",
            broadsheet,
            broadsheet_environment(url, cached=False),
            "/healthcheck",
        ),
        "cached": Server(
            "cached",
            "Broadsheet, cached",
            broadsheet,
            broadsheet_environment(url, cached=True),
            "/healthcheck",
        ),
        "postgraphile": Server(
            "postgraphile",
            "PostGraphile",
            ["node", str(POSTGRAPHILE_DIR / "server.js")],
            {**clean_env, "DATABASE_URL": libpq, "NODE_ENV": "production"},
            "/graphql",
            b'{"query": "{ __typename }"}',
        ),
        "raw": Server(
            "raw",
            "raw asyncpg",
            [*uvicorn, *quiet, "--app-dir", str(BENCH_DIR), "raw_app:app"],
            {**clean_env, "RAW_DATABASE_DSN": libpq},
            "/",
        ),
        "bare": Server(
            "bare",
            "bare ASGI",
            [*uvicorn, *quiet, "--app-dir", str(BENCH_DIR), "bare_app:app"],
            clean_env,
            "/",
            database=False,
        ),
    }
    return [servers[key] for key in keys]


def start(server: Server, core: int, workdir: Path) -> None:
    command = ["taskset", "-c", str(core), *server.command]
    if server.key == "postgraphile":
        server.env["PORT"] = str(server.port)
    else:
        command += ["--port", str(server.port)]
    assert server.log is not None
    with server.log.open("wb") as log:
        # The working directory is an empty one, so no stray .env file changes the settings.
        server.process = subprocess.Popen(
            command, env=server.env, cwd=workdir, stdout=log, stderr=subprocess.STDOUT
        )


def log_tail(server: Server) -> str:
    return "" if server.log is None else processes.tail(server.log)


async def wait_ready(client: httpx.AsyncClient, server: Server) -> None:
    assert server.process is not None
    url = server.base_url + server.ready_path
    body = server.ready_body

    def ask() -> Awaitable[httpx.Response]:
        if body is None:
            return client.get(url)
        return client.post(url, content=body, headers={"content-type": "application/json"})

    await processes.wait_ready(
        server.process,
        ask,
        name=server.name,
        within=START_TIMEOUT_SECONDS,
        log=lambda: log_tail(server),
    )


@contextlib.contextmanager
def running(servers: list[Server], core: int) -> Iterator[None]:
    workdir = Path(tempfile.mkdtemp(prefix="broadsheet-compare-"))
    try:
        for server in servers:
            server.log = workdir / f"{server.key}.log"
            start(server, core, workdir)
        yield
    finally:
        for server in servers:
            if server.process is not None:
                processes.stop_server(server.process)
        shutil.rmtree(workdir, ignore_errors=True)


def ensure_node_modules() -> None:
    if (POSTGRAPHILE_DIR / "node_modules").is_dir():
        return
    print("Installing PostGraphile (npm ci in bench/peers/postgraphile) ...")
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=POSTGRAPHILE_DIR, check=False
    )
    if done.returncode != 0:
        raise BenchError("npm ci failed in bench/peers/postgraphile")
