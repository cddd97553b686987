"""Automatic persisted queries with Apollo Client's persisted-queries link
(tests/clients/apq.mjs): an unknown hash answers PERSISTED_QUERY_NOT_FOUND, the link retries
with the document, which the server stores; later clients send only the hash, by GET or POST,
and hit."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.clients.conftest import node_json
from tests.live_server import LiveServer

# The server's access line for each request (development's text format).
ACCESS = re.compile(r"\[broadsheet\.access\].* method=(\w+) path=/graphql ")
STORED = text("SELECT document, registered FROM persisted_queries WHERE sha256 = :sha256")


def stored(database_url: str, sha256: str) -> list[Any]:
    """The rows the server keeps for a hash, read straight from its database."""

    async def read() -> list[Any]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                return list(await connection.execute(STORED, {"sha256": sha256}))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_miss_is_retried_with_the_document_and_later_hashes_hit(
    live_server: LiveServer, node_project: Path
) -> None:
    logged = live_server.log_size()
    report = node_json(node_project, "apq.mjs", live_server)
    served = [
        (match[1], line) for line in live_server.log_since(logged) if (match := ACCESS.search(line))
    ]

    miss, retry = report["first"]["log"]
    digest = miss["hash"]
    assert len(digest) == 64
    assert miss == {
        "method": "GET",
        "sentQuery": False,
        "hash": digest,
        "status": miss["status"],
        "codes": ["PERSISTED_QUERY_NOT_FOUND"],
        "data": False,
    }
    assert miss["status"] in (200, 400)  # 400 when the client accepts graphql-response+json
    assert retry == {
        "method": "POST",
        "sentQuery": True,
        "hash": digest,
        "status": 200,
        "codes": [],
        "data": True,
    }
    hit = {"sentQuery": False, "hash": digest, "status": 200, "codes": [], "data": True}
    assert report["again"]["log"] == [{"method": "GET", **hit}]
    assert report["byPost"]["log"] == [{"method": "POST", **hit}]
    slugs = report["first"]["slugs"]
    assert len(slugs) == 5
    assert report["again"]["slugs"] == report["byPost"]["slugs"] == slugs

    # The server side: four requests (the miss, the retry, two hits), the first refused...
    assert [method for method, _ in served] == ["GET", "POST", "GET", "POST"]
    assert "graphql_error_codes=['PERSISTED_QUERY_NOT_FOUND']" in served[0][1]
    assert all("graphql_error_codes=[]" in line for _, line in served[1:]), served
    # ...the document stored once, under its hash, as a client's (not an operator's registered)
    # document, and a plain GET by hash alone runs it.
    [(document, registered)] = stored(live_server.database_url, digest)
    assert "query PersistedArchive" in document
    assert not registered
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    plain = httpx.get(
        live_server.graphql_url,
        params={"extensions": extensions, "variables": '{"first": 5}'},
        headers={"accept": "application/json"},
        timeout=30,
    )
    assert plain.status_code == 200, plain.text
    assert [post["slug"] for post in plain.json()["data"]["posts"]["nodes"]] == slugs
