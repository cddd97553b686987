"""Server processes under test, and the benchmark scripts' own process (event loop, SIGTERM)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from errors import BenchError

HEALTH_TIMEOUT_SECONDS = 60.0


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
    url: str,
    port: int,
    workdir: Path,
    overrides: Mapping[str, str] | None = None,
    core: int | None = None,
    log: BinaryIO | None = None,
) -> subprocess.Popen[bytes]:
    """The production server; on `core` alone when given (taskset: its threads, SQLite's
    included, inherit the pinning from the start); its output (the JSON access log) to `log`
    when given, else to this process's."""
    # The working directory is an empty one, so no stray .env file changes the settings.
    pinned = [] if core is None else ["taskset", "-c", str(core)]
    command = [
        *pinned, sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    errors = None if log is None else subprocess.STDOUT
    env = server_environment(url, overrides)
    return subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=errors)


def tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


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
    url: str, overrides: Mapping[str, str] | None = None, core: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """Run the production server; yield its base URL, process and output file; always stop
    it. Its output goes to a file, as in compare.py: written to a terminal or a pipe, the
    access log would cost the server what the reader of the pipe makes it wait."""
    workdir = Path(tempfile.mkdtemp(prefix="broadsheet-bench-server-"))
    port = free_port()
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        process = start_server(url, port, workdir, overrides, core, log)
    try:
        yield f"http://127.0.0.1:{port}", process, log_path
    finally:
        stop_server(process)
        shutil.rmtree(workdir, ignore_errors=True)


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
