"""Automatic persisted queries (Apollo's APQ protocol) over POST and GET, stored in the
database, with a size cap, a count cap and an allow-list mode."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from db import models
from db.engine import Database
from service.cli import main
from service.settings import Settings
from tests.helpers import error_codes

QUERY = "query Title { settings { title } }"
MUTATION = 'mutation Science { createTag(input: { name: "Science" }) { tag { slug } } }'
MODERN = {"accept": "application/graphql-response+json,application/json;q=0.9"}


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def extension(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return Settings(database_url=database_url, secret_key="x" * 48, _env_file=None, **overrides)


async def stored(db: Database) -> dict[str, tuple[str, bool]]:
    async with db.read_sessions() as session:
        rows = await session.scalars(select(models.PersistedQuery))
        return {row.sha256: (row.document, row.registered) for row in rows}


async def get_by_hash(
    client: httpx.AsyncClient, document: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """What Apollo Client's persisted-query link sends with useGETForHashedQueries."""
    return await client.get(
        "/graphql",
        params={"operationName": "Title", "extensions": json.dumps(extension(document))},
        headers=headers,
    )


async def test_the_apollo_round_trip_over_post(client: httpx.AsyncClient, db: Database) -> None:
    hash_only = await client.post("/graphql", json={"extensions": extension(QUERY)})
    assert hash_only.status_code == 200
    [error] = hash_only.json()["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert "no-cache" in hash_only.headers["cache-control"]
    assert await stored(db) == {}

    retry = await client.post("/graphql", json={"query": QUERY, "extensions": extension(QUERY)})
    assert retry.status_code == 200
    assert retry.json()["data"]["settings"]["title"]
    assert await stored(db) == {sha(QUERY): (QUERY, False)}

    again = await client.post("/graphql", json={"extensions": extension(QUERY)})
    assert again.json() == retry.json()


async def test_get_by_hash_hits_once_registered(client: httpx.AsyncClient, db: Database) -> None:
    miss = await get_by_hash(client, QUERY)
    assert miss.status_code == 200  # not GraphiQL, though there is no `query` parameter
    assert error_codes(miss.json()) == ["PERSISTED_QUERY_NOT_FOUND"]

    register = await client.get(
        "/graphql", params={"query": QUERY, "extensions": json.dumps(extension(QUERY))}
    )
    assert register.json()["data"]["settings"]["title"]

    hit = await get_by_hash(client, QUERY)
    assert hit.status_code == 200
    assert hit.json() == register.json()
    assert sha(QUERY) in await stored(db)


async def test_not_found_is_200_for_apollo_also_in_the_new_media_type(
    client: httpx.AsyncClient,
) -> None:
    # Apollo's link stops using persisted queries when this comes with a 400 or 500.
    response = await client.post("/graphql", json={"extensions": extension(QUERY)}, headers=MODERN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in response.json()
    assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_stored_document_is_found_by_another_worker(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    from service.app import close_app, create_app

    await client.post("/graphql", json={"query": QUERY, "extensions": extension(QUERY)})
    other = create_app(settings)  # another process: nothing shared but the database
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other), base_url="http://testserver"
    ) as second:
        hit = await second.post("/graphql", json={"extensions": extension(QUERY)})
    await close_app(other)
    assert hit.json()["data"]["settings"]["title"]


@pytest.mark.parametrize("accept", ["application/json", MODERN["accept"]])
async def test_a_wrong_hash_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, db: Database, accept: str
) -> None:
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": sha("{ __typename }")}}
    response = await client.post(
        "/graphql", json={"query": QUERY, "extensions": wrong}, headers={"accept": accept}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"] == "provided sha does not match query"
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert await stored(db) == {}


@pytest.mark.parametrize(
    "persisted",
    [
        "yes",
        {"version": 2, "sha256Hash": sha(QUERY)},
        {"version": 1},
        {"version": 1, "sha256Hash": "abc"},
        {"version": 1, "sha256Hash": sha(QUERY).upper()},
    ],
)
async def test_malformed_extensions_are_400(client: httpx.AsyncClient, persisted: Any) -> None:
    response = await client.post(
        "/graphql", json={"query": QUERY, "extensions": {"persistedQuery": persisted}}
    )
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_REQUEST"]


async def test_mutations_never_run_over_get_even_by_hash(
    client: httpx.AsyncClient, db: Database, as_staff: Any
) -> None:
    _, headers = await as_staff(models.Role.OWNER)
    # Registered (and run once) over POST, where mutations belong...
    registered = await client.post(
        "/graphql", json={"query": MUTATION, "extensions": extension(MUTATION)}, headers=headers
    )
    assert registered.json()["data"]["createTag"]["tag"]["slug"] == "science"
    assert sha(MUTATION) in await stored(db)
    # ... but a GET by its hash is 405, and nothing more was written.
    by_get = await client.get(
        "/graphql", params={"extensions": json.dumps(extension(MUTATION))}, headers=headers
    )
    assert by_get.status_code == 405
    assert by_get.headers["allow"] == "POST"
    async with db.read_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(models.Tag)) == 1


async def test_a_get_registration_of_a_mutation_stores_nothing(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.get(
        "/graphql", params={"query": MUTATION, "extensions": json.dumps(extension(MUTATION))}
    )
    assert response.status_code == 405
    assert await stored(db) == {}


async def test_invalid_documents_are_not_stored(client: httpx.AsyncClient, db: Database) -> None:
    broken = "{ settings { titel } }"
    response = await client.post(
        "/graphql", json={"query": broken, "extensions": extension(broken)}
    )
    assert error_codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await stored(db) == {}


@pytest.mark.parametrize("settings", [{"persisted_query_max_bytes": 40}], indirect=True)
async def test_documents_over_the_size_cap_are_refused(
    client: httpx.AsyncClient, db: Database
) -> None:
    big = "query Big { settings { title description url } }"
    assert len(big) > 40
    response = await client.post("/graphql", json={"query": big, "extensions": extension(big)})
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "limit": "persistedQueryBytes",
        "max": 40,
        "actual": len(big),
    }
    assert "BROADSHEET_PERSISTED_QUERY_MAX_BYTES" in error["message"]
    assert await stored(db) == {}
    # The cap is on what gets stored: the same document without a hash runs as usual.
    plain = await client.post("/graphql", json={"query": big})
    assert "errors" not in plain.json()


@pytest.mark.parametrize("settings", [{"persisted_query_max_entries": 1}], indirect=True)
async def test_past_the_count_cap_documents_run_but_are_not_stored(
    client: httpx.AsyncClient, db: Database
) -> None:
    other = "query Other { settings { url } }"
    for document in (QUERY, other):
        response = await client.post(
            "/graphql", json={"query": document, "extensions": extension(document)}
        )
        assert "errors" not in response.json()
    assert list(await stored(db)) == [sha(QUERY)]


ONLY_REGISTERED = {"persisted_queries_only": True}


@pytest.mark.parametrize("settings", [ONLY_REGISTERED], indirect=True)
async def test_allow_list_mode_runs_registered_documents_only(
    client: httpx.AsyncClient, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = "query Other { settings { url } }"
    refused = await client.post("/graphql", json={"query": other})
    refused_apq = await client.post(
        "/graphql", json={"query": other, "extensions": extension(other)}
    )
    unknown = await client.post("/graphql", json={"extensions": extension(QUERY)})
    assert error_codes(refused.json()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
    assert error_codes(refused_apq.json()) == ["PERSISTED_QUERY_NOT_IN_LIST"]
    assert error_codes(unknown.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert await stored(db) == {}  # registrations by clients are refused

    # The operator registers the site's documents: a .graphql file and an Apollo manifest.
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "title.graphql").write_text(QUERY)
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": sha(other), "name": "Other", "type": "query", "body": other}],
    }
    (tmp_path / "queries" / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", str(db.engine.url.render_as_string(False)))
    # The CLI runs its own event loop, as it would in a shell.
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["persisted-queries", "register", str(tmp_path / "queries")]
    )
    assert result.exit_code == 0, result.output
    assert set(result.stdout.split()) >= {sha(QUERY), sha(other)}
    assert await stored(db) == {sha(QUERY): (QUERY, True), sha(other): (other, True)}

    by_hash = await client.post("/graphql", json={"extensions": extension(QUERY)})
    by_text = await client.post("/graphql", json={"query": other})
    by_get = await get_by_hash(client, QUERY)
    for response in (by_hash, by_text, by_get):
        assert "errors" not in response.json(), response.json()


@pytest.mark.parametrize("settings", [ONLY_REGISTERED], indirect=True)
async def test_allow_list_mode_ignores_documents_clients_stored_before(
    client: httpx.AsyncClient, db: Database
) -> None:
    from db.repositories import PersistedQueryRepository

    async with db.write_sessions.begin() as session:
        await PersistedQueryRepository(session).add(sha(QUERY), QUERY)
    response = await client.post("/graphql", json={"extensions": extension(QUERY)})
    assert error_codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


def test_register_refuses_a_manifest_whose_ids_are_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/x.db")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"operations": [{"id": "0" * 64, "body": QUERY}]}))
    result = CliRunner().invoke(main, ["persisted-queries", "register", str(manifest)])
    assert result.exit_code == 1
    assert "is not the SHA-256" in result.output


@pytest.mark.parametrize("settings", [{"log_json": True}], indirect=True)
async def test_refusals_reach_the_access_log_with_their_code(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.post("/graphql", json={"extensions": extension(QUERY)})
    access = [
        json.loads(line)
        for line in capsys.readouterr().err.splitlines()
        if '"broadsheet.access"' in line
    ]
    assert [line["graphql_error_codes"] for line in access] == [["PERSISTED_QUERY_NOT_FOUND"]]
