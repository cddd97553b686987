"""GraphQL over HTTP conformance: graphql-http's `auditServer` (tests/clients/audit.mjs)
against a live server must report no error and no warning (notices are shown, not failed)."""

from __future__ import annotations

from pathlib import Path

from tests.clients.conftest import node_json
from tests.live_server import LiveServer


def test_the_graphql_http_audit_passes(live_server: LiveServer, node_project: Path) -> None:
    report = node_json(node_project, "audit.mjs", live_server)

    lines = [
        f"{failure['status'].upper():6} {failure['id']} {failure['name']}: {failure['reason']} "
        f"(HTTP {failure['response']['status']}, {failure['response']['contentType']})"
        for failure in report["failures"]
    ]
    print(f"graphql-http audit: {report['counts']} of {report['total']}", *lines, sep="\n")
    assert report["total"] > 0
    assert report["counts"]["error"] == 0, "\n".join(lines)
    assert report["counts"]["warn"] == 0, "\n".join(lines)
