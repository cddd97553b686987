"""Sending GraphQL the way a frontend does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    """Log in over REST as a script would; return the token response."""
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a document; return the whole JSON body (data and errors)."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def graphql_data(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST a document that must succeed; return its data."""
    body = await graphql(client, query, variables, headers=headers)
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def error_codes(body: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


@dataclass
class LoopWatch:
    """The longest time the loop took to come back to a task asking for 5 ms of sleep."""

    worst: float = 0.0

    async def run(self, until: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not until.is_set():
            started = loop.time()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, loop.time() - started - 0.005)


async def listening(app: Any, client: httpx.AsyncClient) -> None:
    """Wait until the app's response cache hears content changes pushed by PostgreSQL (its
    listener starts with the first cached read); until then each request checks."""
    await client.get("/graphql", params={"query": "{ settings { title } }"})
    generations = app.state.response_cache.generations
    await until(lambda: generations.listening, seconds=10)


async def until(condition: Callable[[], bool], *, seconds: float) -> None:
    """Wait for `condition` (a state of the app, polled), failing after `seconds`."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (no event to wait on: a state, polled)
            await asyncio.sleep(0.005)
