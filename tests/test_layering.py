"""Imports flow one way: rest/ and graphql_schema/ -> service/ -> db/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "db": {"fastapi", "strawberry", "starlette", "service", "graphql_schema", "rest", "graphql"},
    "service": {"fastapi", "strawberry", "starlette", "graphql_schema", "rest", "graphql"},
    "rest": {"graphql_schema", "strawberry"},
    "graphql_schema": {"rest"},
}
# The app factory wires every layer together, and the CLI exports the schema.
EXEMPT = {ROOT / "service" / "app.py", ROOT / "service" / "cli.py"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[layer])
        for path in (ROOT / layer).rglob("*.py")
        if path not in EXEMPT and _imports(path) & FORBIDDEN[layer]
    }
    assert offenders == {}
