"""GraphiQL in a real browser with no internet: headless Chromium (driven by playwright-core,
tests/clients/graphiql.mjs) loads /graphql from a live server while every other host is
unreachable, runs a query typed into the editor and finds the result on screen. The screenshot
is kept in test-output/graphiql.png (a CI artifact)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.clients.conftest import TEST_OUTPUT, node_json
from tests.live_server import LiveServer, free_port

QUERY = "{\n  settings { title }\n  posts(first: 3) { nodes { title slug } }\n}"


def test_a_query_runs_in_graphiql_with_every_other_host_unreachable(
    live_server: LiveServer, node_project: Path, chromium: str
) -> None:
    expected = httpx.post(live_server.graphql_url, json={"query": QUERY}, timeout=30).json()
    newest = expected["data"]["posts"]["nodes"][0]["title"]
    site_title = expected["data"]["settings"]["title"]
    TEST_OUTPUT.mkdir(exist_ok=True)
    screenshot = TEST_OUTPUT / "graphiql.png"
    screenshot.unlink(missing_ok=True)

    report = node_json(
        node_project,
        "graphiql.mjs",
        live_server,
        CHROMIUM=chromium,
        DEAD_PORT=str(free_port()),  # nothing listens there: a proxy that is down
        QUERY=QUERY,
        EXPECT=newest,
        SCREENSHOT=str(screenshot),
    )

    assert report["editor"] == QUERY
    assert newest in report["result"]
    assert site_title in report["result"]
    assert report["title"] == f"{site_title} · GraphiQL"
    assert screenshot.stat().st_size > 10_000
    served = urlsplit(live_server.url).netloc
    elsewhere = [
        request
        for request in report["requests"]
        if urlsplit(request.split(" ", 1)[1]).netloc != served
        and not request.split(" ", 1)[1].startswith(("data:", "blob:"))
    ]
    assert elsewhere == [], json.dumps(report, indent=2)
    assert any(
        request.startswith(f"POST {live_server.graphql_url}") for request in report["requests"]
    )
    assert report["errors"] == [], report["errors"]
    assert report["failed"] == []
    # The probe, in a context of its own: the isolation holds (no false pass by a lucky page).
    assert "net::ERR_" in report["outside"], report["outside"]


def test_a_newcomer_goes_from_the_front_door_to_graphiql_and_runs_its_example(
    live_server: LiveServer, node_project: Path, chromium: str
) -> None:
    """Open `/`, follow its GraphiQL link, and run the document GraphiQL opens on (no typing):
    the result pane shows the demo site's newest post. Both screenshots are CI artefacts."""
    front = httpx.get(f"{live_server.url}/", headers={"accept": "application/json"}).json()
    homepage = front["examples"][0]
    expected = httpx.post(
        live_server.graphql_url,
        json={"query": homepage["query"], "variables": homepage["variables"]},
        timeout=30,
    ).json()
    newest = expected["data"]["posts"]["nodes"][0]["title"]
    TEST_OUTPUT.mkdir(exist_ok=True)
    door, graphiql = TEST_OUTPUT / "front-door.png", TEST_OUTPUT / "graphiql-example.png"

    report = node_json(
        node_project,
        "graphiql.mjs",
        live_server,
        CHROMIUM=chromium,
        DEAD_PORT=str(free_port()),
        QUERY="",
        EXPECT=newest,
        SCREENSHOT=str(graphiql),
        FRONT_DOOR_SCREENSHOT=str(door),
    )

    assert report["frontDoor"]["heading"] == front["title"]
    assert "query Homepage" in report["editor"]
    assert "/api/v1/auth/token" in report["editor"]  # how staff sign in
    assert newest in report["result"]
    assert len(report["tabs"]) == 4
    assert json.dumps(homepage["variables"], indent=2) in report["editors"]  # filled in
    assert door.stat().st_size > 10_000
    assert graphiql.stat().st_size > 10_000
    assert report["errors"] == [], report["errors"]
    assert report["failed"] == []
