"""Fixtures for the third-party client tests: one live server for the package, the Node
fixture project (installed with `npm ci` when its node_modules is missing or stale), and
Chromium. In CI (CI=true) a missing tool fails the test; elsewhere it skips with the reason."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POSTGRES_URL, _truncate
from tests.live_server import REPOSITORY, LiveServer, running_server

PROJECT = Path(__file__).resolve().parent  # package.json, package-lock.json, the scripts
NODE_TIMEOUT_SECONDS = 120
IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
TEST_OUTPUT = REPOSITORY / "test-output"


def missing(what: str) -> None:
    """CI must run every client test; a developer without the tool gets a skip."""
    if IN_CI:
        pytest.fail(f"{what} (CI=true, so this fails instead of skipping)")
    pytest.skip(what)


@pytest.fixture(scope="package")
def live_server(
    migrated_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A uvicorn process serving the demo site, shared by the client tests (they only read,
    or write what no other test looks at)."""
    workdir = tmp_path_factory.mktemp("live-server")
    if POSTGRES_URL:
        asyncio.run(_truncate(POSTGRES_URL))
        database_url = POSTGRES_URL
    else:
        target = workdir / "broadsheet.db"
        shutil.copy(migrated_template.removeprefix("sqlite+aiosqlite:///"), target)
        database_url = f"sqlite+aiosqlite:///{target}"
    with running_server(database_url, workdir) as server:
        yield server


@pytest.fixture(scope="session")
def node_project() -> Path:
    """tests/clients with its pinned packages installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing("node and npm are needed for the Node client tests")
    installed = PROJECT / "node_modules" / ".package-lock.json"  # written by every install
    lock = PROJECT / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    return PROJECT


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium (BROADSHEET_TEST_CHROMIUM to use another binary)."""
    path = os.environ.get("BROADSHEET_TEST_CHROMIUM") or shutil.which("chromium")
    if path is None:
        missing("chromium is not installed (apt-get install chromium)")
    return str(path)


def run_node(
    project: Path, script: str, *, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one of the project's scripts; its stderr is shown when a test fails."""
    return subprocess.run(
        ["node", script],
        cwd=project,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )


def node_json(project: Path, script: str, server: LiveServer, **env: str) -> dict[str, Any]:
    """Run a script against the live server; return the JSON report it prints last."""
    result = run_node(project, script, env={"BROADSHEET_URL": server.url, **env})
    assert result.returncode == 0, (
        f"node {script} exited with {result.returncode}\n--- stdout\n{result.stdout}"
        f"\n--- stderr\n{result.stderr}\n--- server log\n{server.log_tail()}"
    )
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report
