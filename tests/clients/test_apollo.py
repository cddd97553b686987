"""Apollo Client (Node, no React) against a live server: the homepage query and the whole
archive walked page by page with `after` cursors (tests/clients/apollo.mjs)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.clients.conftest import node_json
from tests.live_server import LiveServer

EXPECTED = "{ settings { title } posts(first: 100) { totalCount nodes { id } } }"


def test_homepage_and_the_paginated_archive(live_server: LiveServer, node_project: Path) -> None:
    expected = httpx.post(live_server.graphql_url, json={"query": EXPECTED}, timeout=30).json()
    newest_first = [post["id"] for post in expected["data"]["posts"]["nodes"]]

    report = node_json(node_project, "apollo.mjs", live_server)

    home = report["homepage"]
    assert home["title"] == expected["data"]["settings"]["title"]
    assert [post["id"] for post in home["posts"]] == newest_first[:15]
    assert all(post["author"] and post["tags"] for post in home["posts"])
    assert home["hasNextPage"] is True

    archive = report["archive"]
    assert archive["totalCount"] == expected["data"]["posts"]["totalCount"] == len(newest_first)
    assert archive["seen"] == newest_first  # every post once, in order, none skipped
    assert archive["pages"] == -(-len(newest_first) // 10)
    assert report["requests"] == 1 + archive["pages"]
