"""GraphQL Code Generator makes TypeScript types from the committed schema.graphql with no
network, and `tsc --noEmit` checks a frontend's code (tests/clients/app.ts) against them, so a
schema change that would break a site fails here first."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.clients.conftest import NODE_TIMEOUT_SECONDS
from tests.live_server import REPOSITORY


def offline() -> list[str]:
    """A prefix running a command in a network namespace of its own (no interfaces), where
    the kernel allows it; elsewhere the schema being a local file is the guarantee."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, check=False)
    return [unshare, "-n"] if probe.returncode == 0 else []


def generate_and_typecheck(
    project: Path, schema: Path, workdir: Path
) -> subprocess.CompletedProcess[str]:
    """Codegen into `workdir`, then tsc there; returns tsc's result (codegen must succeed)."""
    for name in ("app.ts", "tsconfig.json"):
        shutil.copy(project / name, workdir / name)
    codegen = subprocess.run(
        [*offline(), str(project / "node_modules/.bin/graphql-codegen"), "--config", "codegen.ts"],
        cwd=project,
        env={
            **os.environ,
            "BROADSHEET_SCHEMA": str(schema),
            "BROADSHEET_CODEGEN_OUT": str(workdir / "generated"),
        },
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    assert codegen.returncode == 0, f"{codegen.stdout}\n{codegen.stderr}"
    return subprocess.run(
        [str(project / "node_modules/.bin/tsc"), "--noEmit", "-p", str(workdir)],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )


def test_types_generated_from_the_committed_schema_typecheck(
    node_project: Path, tmp_path: Path
) -> None:
    result = generate_and_typecheck(node_project, REPOSITORY / "schema.graphql", tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    generated = (tmp_path / "generated/graphql.ts").read_text()
    assert "export type HomepageQuery = " in generated
    assert "export type ArchiveQueryVariables = " in generated


def test_a_breaking_schema_change_fails_the_typecheck(node_project: Path, tmp_path: Path) -> None:
    schema = (REPOSITORY / "schema.graphql").read_text()
    assert "readingTime: Int!" in schema
    broken = tmp_path / "schema.graphql"
    broken.write_text(schema.replace("readingTime: Int!", "readingTime: String"))
    (tmp_path / "out").mkdir()

    result = generate_and_typecheck(node_project, broken, tmp_path / "out")

    assert result.returncode != 0
    assert "app.ts" in result.stdout
    assert "string | null" in result.stdout  # readingTime, where app.ts wants a number
