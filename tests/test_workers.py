"""Two worker processes over one database (`uvicorn --workers 2`), as production runs: a write
through one worker is read from every worker within a second, whether it answers from its
response cache (PostgreSQL: told by NOTIFY) or from the database (SQLite)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.live_server import running_server

NEW_CONNECTIONS = 24  # each request on its own connection: the kernel spreads them over both


def title(url: str, query: str) -> str:
    """The title answered to a GET on a new connection."""
    response = httpx.get(url, params={"query": query}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["post"]["title"])


def titles(url: str, query: str) -> set[str]:
    return {title(url, query) for _ in range(NEW_CONNECTIONS)}


def test_a_write_reaches_every_worker_within_a_second(database_url: str, tmp_path: Path) -> None:
    with running_server(database_url, tmp_path, workers=2) as server:
        token = httpx.post(
            f"{server.url}/api/v1/auth/token",
            data={"username": server.demo.owner_email, "password": server.demo.owner_password},
            timeout=30,
        ).json()["access_token"]
        staff = {"Authorization": f"Bearer {token}"}
        first = httpx.get(
            server.graphql_url,
            params={"query": "{ posts(first: 1) { nodes { id slug title } } }"},
            timeout=10,
        ).json()["data"]["posts"]["nodes"][0]
        query = f'{{ post(slug: "{first["slug"]}") {{ title }} }}'
        # Both workers answer it, and (on PostgreSQL) keep it in their caches.
        assert titles(server.graphql_url, query) == {first["title"]}
        assert titles(server.graphql_url, query) == {first["title"]}

        renamed = httpx.post(
            server.graphql_url,
            json={
                "query": "mutation($id: ID!) { updatePost(input: {id: $id, title: "
                '"Renamed on one worker"}) { userErrors { code } } }',
                "variables": {"id": first["id"]},
            },
            headers=staff,
            timeout=10,
        )
        written = time.monotonic()
        assert renamed.json()["data"]["updatePost"]["userErrors"] == []
        # Until NEW_CONNECTIONS answers in a row are the new title: when was the old one last?
        last_stale, fresh_in_a_row = written, 0
        while fresh_in_a_row < NEW_CONNECTIONS:
            asked = time.monotonic()
            if title(server.graphql_url, query) == "Renamed on one worker":
                fresh_in_a_row += 1
            else:
                last_stale, fresh_in_a_row = asked, 0
                assert asked - written < 1.0, "the old title is still served after a second"
        print(f"the old title was last served {1000 * (last_stale - written):.1f} ms on")
