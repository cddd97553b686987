"""The cache front: a request the response cache answered is answered again, byte for byte,
before any of FastAPI's layers run, until the content changes; request ids, Server-Timing,
access lines and metrics as for any request; and whatever must not be repeated goes on.

These tests run with the compiled path "on": verify mode (the rest of the suite) compares
every answer with the general path's, so no answer may skip it there."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from starlette.types import Message

from db import models
from db.base import utcnow
from db.engine import Database
from graphql_schema.compiled import content_keys, front
from service.settings import Settings
from tests.conftest import POSTGRES_URL, make_settings
from tests.factories import create_post, create_user
from tests.graphql.test_http_caching import api_key
from tests.graphql.test_response_cache import LATEST, commit_elsewhere, rename_latest, titles
from tests.helpers import listening, until
from tests.test_observability import sample, samples

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's notifications")

NAMED = "query Latest { posts(first: 20) { nodes { title } } }"
PER_REQUEST = {"x-request-id", "server-timing", "date"}


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The suite's settings with the compiled path "on" (and JSON logs, read by a test)."""
    changes = {"compiled_queries": "on", "log_json": True, **getattr(request, "param", {})}
    return make_settings(database_url, media_dir=tmp_path / "media", **changes)


@pytest.fixture(autouse=True)
async def known_generation(app: FastAPI, client: httpx.AsyncClient) -> None:
    """On PostgreSQL the generation is known without a statement once its changes are heard
    (LISTEN); on SQLite at once. Until then nothing is kept."""
    await listening(app, client)


@pytest.fixture
async def author(db: Database) -> models.User:
    writer = await create_user(db, name="Writer")
    await create_post(db, "First", authors=[writer])
    return writer


def hits(app: FastAPI) -> int:
    return app.state.cache_front.hits  # type: ignore[no-any-return]


def lasting(response: httpx.Response) -> list[tuple[str, str]]:
    """The response's headers but those made for each request, in order."""
    return [(k, v) for k, v in response.headers.multi_items() if k not in PER_REQUEST]


async def kept(client: httpx.AsyncClient, **request: Any) -> list[httpx.Response]:
    """Send a request four times: the first reads the generation, the second is the response
    cache's answer (kept by the front), the last two are the front's."""
    method = "GET" if "params" in request else "POST"
    return [await client.request(method, "/graphql", **request) for _ in range(4)]


@pytest.mark.usefixtures("author")
async def test_a_repeated_read_is_answered_in_front_with_the_same_bytes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    answered = app.state.compiled_queries.answered
    answers = await kept(client, json={"query": LATEST})
    assert hits(app) == 2
    assert app.state.compiled_queries.answered == answered + 2  # the others never reached it
    assert {answer.content for answer in answers} == {answers[0].content}
    assert titles(answers[0]) == ["First"]
    for answer in answers:
        assert lasting(answer) == lasting(answers[0])
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["server-timing"].startswith("app;dur=")
    assert len({answer.headers["x-request-id"] for answer in answers}) == 4
    # The client's own id, as on any request.
    mine = await client.post("/graphql", json={"query": LATEST}, headers={"X-Request-ID": "r-1"})
    assert mine.headers["x-request-id"] == "r-1"
    assert hits(app) == 3


@pytest.mark.usefixtures("author")
async def test_gets_keep_their_etag_and_revalidate_to_304_in_front(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    params = {"query": LATEST}
    answers = await kept(client, params=params)
    assert hits(app) == 2
    first = answers[0]
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, no-cache"
    assert lasting(answers[-1]) == lasting(first)
    revalidated = await kept(client, params=params, headers={"If-None-Match": etag})
    assert [r.status_code for r in revalidated] == [304] * 4
    assert revalidated[-1].content == b""
    assert revalidated[-1].headers["etag"] == etag
    assert hits(app) == 5  # the 304 is an answer of its own, kept after its first
    other = await client.get("/graphql", params=params, headers={"If-None-Match": '"x"'})
    assert (other.status_code, other.content) == (200, first.content)
    typed = await kept(
        client, params=params, headers={"Accept": "application/graphql-response+json"}
    )
    assert typed[-1].headers["content-type"].startswith("application/graphql-response+json")
    assert typed[-1].headers["etag"] != etag


@pytest.mark.usefixtures("author")
async def test_a_repeated_answer_is_logged_and_counted_as_the_compiled_paths(
    app: FastAPI, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await kept(client, json={"query": NAMED, "operationName": "Latest"})
    assert hits(app) == 2
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if "{" in line]
    access = [line for line in lines if line.get("logger") == "broadsheet.access"]
    assert len(access) == 4
    for line in access:
        assert line["graphql_operation"] == "Latest"
        assert line["graphql_operation_type"] == "query"
        assert line["graphql_error_codes"] == []
        assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    # Each line its own request id, as each response's.
    assert len({line["request_id"] for line in access}) == 4


@pytest.mark.parametrize("settings", [{"metrics_enabled": True}], indirect=True)
@pytest.mark.usefixtures("author")
async def test_repeated_answers_are_in_the_metrics(app: FastAPI, client: httpx.AsyncClient) -> None:
    await kept(client, json={"query": NAMED, "operationName": "Latest"})
    assert hits(app) == 2
    values = samples((await client.get("/metrics")).text)
    requests = "broadsheet_http_requests_total"
    assert sample(values, requests, method="POST", route="/graphql", status="200") == 4
    operations = "broadsheet_graphql_operations_total"
    assert sample(values, operations, operation_type="query", operation_name="Latest") == 4


async def test_a_write_is_seen_by_its_writer_at_once(
    app: FastAPI, client: httpx.AsyncClient, as_staff: Any, author: models.User
) -> None:
    await kept(client, json={"query": LATEST})
    etag = (await client.get("/graphql", params={"query": LATEST})).headers["etag"]
    revalidated = await kept(client, params={"query": LATEST}, headers={"If-None-Match": etag})
    assert [r.status_code for r in revalidated] == [304] * 4
    assert hits(app) == 2 + 3
    _, editor = await as_staff(models.Role.EDITOR)
    await rename_latest(client, editor)
    answers = await kept(client, json={"query": LATEST})
    assert [titles(answer) for answer in answers] == [["Renamed"]] * 4
    # Kept again once read for the new content: by the third request at the latest, unless
    # PostgreSQL's notification of the write itself arrives after that (then the fourth).
    assert hits(app) >= 5 + 1
    # The old ETag no longer matches: the new content, with a new one.
    changed = await client.get(
        "/graphql", params={"query": LATEST}, headers={"If-None-Match": etag}
    )
    assert (changed.status_code, titles(changed)) == (200, ["Renamed"])
    assert changed.headers["etag"] != etag


async def test_staff_tokens_and_other_keys_are_never_answered_in_front(
    app: FastAPI, client: httpx.AsyncClient, db: Database, as_staff: Any, author: models.User
) -> None:
    await create_post(db, "Draft", authors=[author], status=models.PostStatus.DRAFT)
    document = "{ posts(first: 20, filter: {status: {eq: DRAFT}}) { nodes { title } } }"
    await kept(client, json={"query": document})
    assert hits(app) == 2
    _, editor = await as_staff(models.Role.EDITOR)
    for _ in range(3):
        staff = await client.post("/graphql", json={"query": document}, headers=editor)
        assert titles(staff) == ["Draft"]
        assert staff.headers["cache-control"] == "private, no-store"
    admin = await api_key(db, models.ApiKeyScope.ADMIN)
    for _ in range(3):
        assert titles(await client.post("/graphql", json={"query": document}, headers=admin)) == [
            "Draft"
        ]
    bad = {"X-API-Key": "bsk_not_a_key"}
    for _ in range(3):
        refused = await client.post("/graphql", json={"query": document}, headers=bad)
        assert refused.status_code == 401
    assert hits(app) == 2


async def test_a_content_keys_answer_is_repeated_while_the_key_is_remembered(
    app: FastAPI, client: httpx.AsyncClient, db: Database, author: models.User
) -> None:
    key = await api_key(db, models.ApiKeyScope.CONTENT)
    answers = await kept(client, json={"query": LATEST}, headers=key)
    assert [titles(answer) for answer in answers] == [["First"]] * 4
    assert hits(app) == 2
    # Revoked: remembered for at most content_keys.SECONDS, then judged again and refused.
    async with db.write_sessions.begin() as session:
        await session.execute(delete(models.ApiKey))
    # (On SQLite any commit to the file drops the generation: the first are read again.)
    again = await kept(client, json={"query": LATEST}, headers=key)
    assert [titles(answer) for answer in again] == [["First"]] * 4
    repeated = hits(app)
    assert repeated >= 4
    remembered = app.state.cache_front.content_keys._public
    remembered.expire(time.monotonic() + content_keys.SECONDS + 1)  # that long later
    refused = await client.post("/graphql", json={"query": LATEST}, headers=key)
    assert refused.status_code == 401
    assert hits(app) == repeated


@pytest.mark.parametrize(
    "settings",
    [{"cors_origins": ["https://site.example"]}],
    indirect=True,
)
@pytest.mark.usefixtures("author")
async def test_cors_answers_are_repeated_per_origin(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    allowed = await kept(client, json={"query": LATEST}, headers={"Origin": "https://site.example"})
    assert allowed[-1].headers["access-control-allow-origin"] == "https://site.example"
    assert lasting(allowed[-1]) == lasting(allowed[0])
    other = await kept(client, json={"query": LATEST}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other[-1].headers
    plain = await kept(client, json={"query": LATEST})
    assert "access-control-allow-origin" not in plain[-1].headers
    assert hits(app) == 2 + 3 + 3  # once the generation is known, kept from the first on


@pytest.mark.parametrize("settings", [{"max_body_bytes": 200}], indirect=True)
@pytest.mark.usefixtures("author")
async def test_bodies_past_the_limit_or_chunked_are_the_body_limits(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await kept(client, json={"query": LATEST})
    assert hits(app) == 2
    padded = json.dumps({"query": LATEST + " " * 300}).encode()
    too_big = await client.post(
        "/graphql", content=padded, headers={"Content-Type": "application/json"}
    )
    assert too_big.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        yield padded[:100]
        yield padded[100:]

    chunked = await client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    # A GET declaring a body over the limit too, though its answer is kept.
    kept_get = await kept(client, params={"query": LATEST})
    assert kept_get[-1].status_code == 200
    declared = await client.request("GET", "/graphql", params={"query": LATEST}, content=padded)
    assert declared.status_code == 413
    assert hits(app) == 2 + 3
    # Chunked but small: answered, by the app.
    small = json.dumps({"query": LATEST}).encode()

    async def small_chunks() -> AsyncIterator[bytes]:
        yield small

    answered = await client.post(
        "/graphql", content=small_chunks(), headers={"Content-Type": "application/json"}
    )
    assert titles(answered) == ["First"]
    assert hits(app) == 2 + 3


@pytest.mark.usefixtures("author")
async def test_other_requests_go_through_untouched(app: FastAPI, client: httpx.AsyncClient) -> None:
    await kept(client, json={"query": LATEST})
    assert hits(app) == 2
    answered = app.state.compiled_queries.answered
    empty = await client.post("/graphql", content=b"", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400
    for _ in range(3):
        malformed = await client.post(
            "/graphql", content=b'{"query": ', headers={"Content-Type": "application/json"}
        )
        assert malformed.status_code == 400
        head = await client.head("/graphql", params={"query": LATEST})
        assert head.status_code == 405
    assert (await client.get("/healthcheck/live")).status_code == 200
    # The same document as a form: never the front's (nor the cache's).
    form = await client.post("/graphql", data={"query": LATEST})
    assert form.status_code == 415
    assert hits(app) == 2
    assert app.state.compiled_queries.answered == answered


@pytest.mark.usefixtures("author")
async def test_kept_answers_are_dropped_whole_past_their_bound(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await kept(client, json={"query": LATEST})
    monkeypatch.setattr(front, "MAX_KEPT_BYTES", 1)  # any answer fills it: kept alone
    for size in (1, 2, 3):
        document = f"{{ posts(first: {size}) {{ nodes {{ title }} }} }}"
        assert [titles(r) for r in await kept(client, json={"query": document})] == [["First"]] * 4
    # Each kept from its first request on (the generation is known by then), and alone.
    assert hits(app) == 2 + 3 * 3
    assert len(app.state.cache_front._answers.kept) == 1


async def test_a_schedule_coming_due_is_not_hidden_by_the_front(
    app: FastAPI, client: httpx.AsyncClient, db: Database, author: models.User
) -> None:
    due = utcnow() + timedelta(seconds=1.5)
    await create_post(
        db, "Soon", authors=[author], status=models.PostStatus.SCHEDULED, published_at=due
    )
    assert [titles(r) for r in await kept(client, json={"query": LATEST})] == [["First"]] * 4
    assert hits(app) == 2
    await asyncio.sleep((due - utcnow()).total_seconds() + 0.1)
    # Nothing was written: the generation moved because the schedule's time came.
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Soon", "First"]


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's file, shared by processes")
async def test_a_write_by_another_process_on_the_sqlite_file_is_seen_at_once(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, author: models.User
) -> None:
    await kept(client, json={"query": LATEST})
    assert hits(app) == 2
    commit_elsewhere(settings, "UPDATE posts SET title = 'Elsewhere'")  # moves the version
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Elsewhere"]
    assert hits(app) == 2


@postgres_only
async def test_a_write_on_one_worker_reaches_another_workers_front_within_a_second(
    app: FastAPI,
    client: httpx.AsyncClient,
    second_worker: httpx.AsyncClient,
    as_staff: Any,
    author: models.User,
) -> None:
    other_app = second_worker._transport.app  # type: ignore[attr-defined]
    await listening(other_app, second_worker)
    await kept(second_worker, json={"query": LATEST})
    assert hits(other_app) == 2
    _, editor = await as_staff(models.Role.EDITOR)
    await rename_latest(client, editor)
    written = time.monotonic()
    while titles(await second_worker.post("/graphql", json={"query": LATEST})) != ["Renamed"]:
        assert time.monotonic() - written < 1.0, "the other worker still repeats the old answer"
        await asyncio.sleep(0.005)


@postgres_only
async def test_without_notifications_nothing_is_repeated(
    app: FastAPI, client: httpx.AsyncClient, author: models.User
) -> None:
    """The listening connection lost: the generation is not known without a statement, so
    the front lets every request through (each checks) until the listener is back."""
    generations = app.state.response_cache.generations
    await kept(client, json={"query": LATEST})
    assert hits(app) == 2
    assert POSTGRES_URL is not None
    connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE 'LISTEN %content%'"
        )
        await until(lambda: not generations.listening, seconds=5)
        await connection.execute("UPDATE posts SET title = 'Unannounced'")
        assert titles(await client.post("/graphql", json={"query": LATEST})) == ["Unannounced"]
        assert hits(app) == 2
    finally:
        await connection.close()


async def test_an_error_in_front_of_the_app_is_a_500_that_carries_the_request_id(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing of FastAPI's runs before the front: request observability answers for it."""

    def broken() -> None:
        raise RuntimeError("generation unreadable")

    monkeypatch.setattr(app.state.response_cache.generations, "known", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/graphql", json={"query": LATEST}, headers={"X-Request-ID": "report-me"}
        )
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert response.headers["x-request-id"] == "report-me"


@pytest.mark.usefixtures("author")
async def test_an_answer_kept_again_is_counted_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Requests alike that miss together (after every change) each keep their answer: the
    bound counts it once, or a quiet site's front would empty itself again and again."""
    await kept(client, json={"query": LATEST})  # the generation known to the front
    document = "{ posts(first: 1) { nodes { title } } }"
    together = [client.post("/graphql", json={"query": document}) for _ in range(8)]
    assert {titles(r)[0] for r in await asyncio.gather(*together)} == {"First"}
    answers = app.state.cache_front._answers
    assert len(answers.kept) == 2
    assert answers.size == sum(entry.size for entry in answers.kept.values())


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's file, shared by processes")
@pytest.mark.usefixtures("author")
async def test_a_commit_that_changes_no_content_keeps_what_is_kept(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    """On SQLite any commit to the file makes the generation unknown until read again; read,
    it is the same, and every answer kept for it still holds."""
    other_document = "{ posts(first: 1) { nodes { title } } }"
    await kept(client, json={"query": LATEST})
    await kept(client, json={"query": other_document})
    before = hits(app)
    commit_elsewhere(
        settings,
        "INSERT INTO persisted_queries (sha256, document, created_at) "
        "VALUES ('x', '{ a }', '2026-01-01 00:00:00.000000')",
    )
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    assert hits(app) == before  # the generation read again
    assert titles(await client.post("/graphql", json={"query": other_document})) == ["First"]
    assert hits(app) == before + 1  # kept all along


@pytest.mark.usefixtures("author")
async def test_a_client_gone_during_the_body_gets_no_answer(
    app: FastAPI, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Half a body must not pass for the whole: nobody is there to answer, and the access
    line says so (499)."""
    await kept(client, json={"query": LATEST})
    answered = app.state.compiled_queries.answered
    body = json.dumps({"query": LATEST}).encode()
    messages: Iterator[Message] = iter(
        [
            {"type": "http.request", "body": body[:10], "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {"type": "http", "method": "POST", "path": "/graphql", "query_string": b""}
    capsys.readouterr()
    await app({**scope, "headers": headers}, receive, send)
    assert sent == []
    assert app.state.compiled_queries.answered == answered
    [line] = [json.loads(x) for x in capsys.readouterr().err.splitlines() if "access" in x]
    assert line["status"] == 499


async def test_an_answer_of_a_generation_gone_meanwhile_is_not_kept(
    app: FastAPI, client: httpx.AsyncClient, author: models.User, db: Database
) -> None:
    """A request answered for one generation comes back to the front after requests of the
    next one started keeping theirs: its answer must not be kept among them."""
    front_layer = app.state.cache_front
    inner = front_layer.app
    for _ in range(2):  # the generation read, then known to the front
        await client.post("/graphql", json={"query": "{ settings { title } }"})
    before = front_layer._answers.generation
    assert before is not None

    async def then_a_change(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await inner(scope, receive, send)  # answered for the generation before
        front_layer.app = inner
        await create_post(db, "Second", authors=[author])
        while front_layer._answers.generation == before:  # the next one, kept from now on
            await client.post("/graphql", json={"query": "{ settings { title } }"})

    front_layer.app = then_a_change
    assert titles(await client.post("/graphql", json={"query": LATEST})) == ["First"]
    assert sorted(titles(await client.post("/graphql", json={"query": LATEST}))) == [
        "First",
        "Second",
    ]


async def test_the_front_knows_every_layer_behind_it(app: FastAPI) -> None:
    """front.DECIDING names the request headers the layers behind the front read to shape a
    compiled answer. A layer added there must be checked against it; this fails until then."""
    layers = [layer.cls.__name__ for layer in app.user_middleware]  # type: ignore[attr-defined]
    assert layers == ["BodySizeLimit", "SecurityHeaders", "MediaServer", "CompiledQueryMiddleware"]
