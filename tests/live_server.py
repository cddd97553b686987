"""A real Broadsheet server for tests that need one: uvicorn in its own process on a free
loopback port, over a migrated database filled with the demo site.

Tests that talk to the app through httpx's ASGI transport use the fixtures in conftest.py;
this is for clients that can only speak real HTTP (browsers, Node, `gql`).

BROADSHEET_TEST_SERVER_WORKERS=2 runs it with two worker processes (CI does, on PostgreSQL),
so that what the tests see cannot depend on one process's memory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from db.engine import Database
from service.metrics import MULTIPROCESS_DIR_VARIABLE
from service.seeding import DEMO, SeedReport, seed

REPOSITORY = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 60.0
WORKERS = int(os.environ.get("BROADSHEET_TEST_SERVER_WORKERS") or 1)
METRICS_DIRECTORY = "prometheus-multiproc"
STARTED = "Application startup complete."  # uvicorn's line, once per worker


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    database_url: str
    demo: SeedReport  # the owner's login among it
    log: Path  # the server's stdout and stderr
    workers: int
    workdir: Path  # its working directory (and, under `broadsheet serve`, its TMPDIR)
    pid: int  # the process started; with several workers, their supervisor

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def metrics_directory(self) -> Path:
        """Where its workers write their metrics (PROMETHEUS_MULTIPROC_DIR), with several."""
        [directory] = [
            *self.workdir.glob(METRICS_DIRECTORY),
            *self.workdir.glob("broadsheet-metrics-*"),  # made by `broadsheet serve`
        ]
        return directory

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def log_size(self) -> int:
        """The log's size once it has been quiet for a moment: the access line of a request
        is written after its answer is sent, so an earlier test's last line can still be on
        its way when the next test starts."""
        size, deadline = self.log.stat().st_size, time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.log.stat().st_size
            if now == size:
                break
            size = now
        return size

    def log_since(self, offset: int) -> list[str]:
        """The lines the server has logged since `log_size()` returned `offset`."""
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace").splitlines()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_demo(database_url: str) -> SeedReport:
    """Fill an empty, migrated database with the demo site."""

    async def run() -> SeedReport:
        db = Database.connect(database_url)
        try:
            return await seed(db, DEMO)
        finally:
            await db.dispose()

    return asyncio.run(run())


@contextlib.contextmanager
def running_server(
    database_url: str,
    workdir: Path,
    *,
    workers: int = WORKERS,
    settings: Mapping[str, str] | None = None,
    cli: bool = False,
) -> Iterator[LiveServer]:
    """Seed `database_url` (migrated and empty), serve it, and stop the server afterwards.

    `settings` are BROADSHEET_* variables for the server. It runs as uvicorn, set up as the
    README says for any ASGI server; with `cli`, as `broadsheet serve`."""
    report = seed_demo(database_url)
    port = free_port()
    # Development settings (GraphiQL and introspection on), nothing from this process's
    # BROADSHEET_* variables, and an empty working directory so no stray .env applies.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BROADSHEET_") and key != MULTIPROCESS_DIR_VARIABLE
    }
    env.update(
        BROADSHEET_DATABASE_URL=database_url,
        BROADSHEET_SECRET_KEY=secrets.token_hex(32),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")])),
        **(settings or {}),
    )
    if cli:
        # `broadsheet serve` makes its own metrics directory: under TMPDIR, for tests to see.
        env["TMPDIR"] = str(workdir)
        command = [
            sys.executable, "-c", "from service.cli import main; main()", "serve",
            "--port", str(port), "--workers", str(workers),
        ]  # fmt: skip
    else:
        if workers > 1:
            # What the README asks of other servers: an empty directory for the workers' metrics.
            shared = workdir / METRICS_DIRECTORY
            shutil.rmtree(shared, ignore_errors=True)
            shared.mkdir()
            env[MULTIPROCESS_DIR_VARIABLE] = str(shared)
        command = [
            sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
            "--workers", str(workers),
        ]  # fmt: skip
    log = workdir / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    server = LiveServer(
        f"http://127.0.0.1:{port}", database_url, report, log, workers, workdir, process.pid
    )
    try:
        _wait_until_ready(server, process)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a server to stop; kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_ready(server: LiveServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with status {process.returncode}:\n{server.log_tail()}"
            )
        try:
            response = httpx.get(f"{server.url}/healthcheck", timeout=2)
        except httpx.TransportError as error:
            last = repr(error)
        else:
            started = server.log.read_text(errors="replace").count(STARTED)
            # With several workers, all of them: else the first tests meet only the first.
            if response.status_code == 200 and started >= server.workers:
                return
            last = f"{response.status_code} {response.text}, {started} workers started"
        time.sleep(0.1)
    raise RuntimeError(f"the server never got ready (last: {last}):\n{server.log_tail()}")
