"""Observability over HTTP: request ids, Server-Timing, access logs without secrets, /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import structlog
from fastapi import FastAPI
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from db import models
from db.engine import Database
from graphql_schema.types.site_settings import Settings as SiteSettings
from service import logs, metrics
from service.app import close_app, create_app
from service.request_record import RequestRecord, enter, leave
from service.settings import Settings
from tests.helpers import error_codes
from tests.live_server import LiveServer, running_server

GENERATED_ID = re.compile(r"[0-9a-f]{32}")
# ISO 8601 in UTC with microseconds, as every log line's `timestamp`.
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
SERVER_TIMING = re.compile(r"app;dur=\d+\.\d")
METRICS_TOKEN = "metrics-token-5f1c0e2a9b7d4c38"
METRICS_ON = {"metrics_enabled": True}
METRICS_WITH_TOKEN = {"metrics_enabled": True, "metrics_token": METRICS_TOKEN}

STAFF_QUERY = 'query StaffPosts($search: String) { viewer { email } posts(search: $search, first: 1) { totalCount } node(id: "bogus") { id } }'
BROKEN_QUERY = 'query Broken { node(id: "bogus") { id } }'
ANONYMOUS_QUERY = "{ settings { title } }"
HOME_QUERY = "query Home { settings { title } }"
# A literal password in the document, and a validation error that makes it worth logging.
INLINE_PASSWORD = 'mutation { changePassword(input: {currentPassword: "inline-password-sentinel", newPassword: "also-password-sentinel"}) { nope } }'
CREATE_TAG = 'mutation Tagging { createTag(input: {name: "Science"}) { tag { slug } } }'


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    """JSON logs (so tests can read them) unless a test parametrizes other settings."""
    overrides: dict[str, Any] = {"log_json": True, **getattr(request, "param", {})}
    return Settings(database_url=database_url, secret_key="x" * 48, _env_file=None, **overrides)


def log_lines(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[dict[str, Any]]]:
    """What the app logged since the last call: the raw text and its JSON lines."""
    # httpx logs the URLs the *test client* requests; that is not the app's output.
    text = "\n".join(
        line for line in capsys.readouterr().err.splitlines() if '"logger": "httpx"' not in line
    )
    return text, [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@contextlib.contextmanager
def our_handler_alone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Production's logging: our handler is the only one, so access lines are written
    directly. (pytest puts handlers of its own on the root for every test, and with them the
    lines go through logging.) Going through logging in this block fails the test."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = [h for h in saved if h.get_name() == logs.LOG_HANDLER_NAME]

    def through_logging(*_: Any, **__: Any) -> None:
        raise AssertionError("the access line went through logging")

    with monkeypatch.context() as patch:
        patch.setattr(logs.access_log, "info", through_logging)
        try:
            yield
        finally:
            root.handlers = saved


def access_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("logger") == "broadsheet.access"]


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


def sample(
    values: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return values.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    return response.text


# --- Request ids and Server-Timing -------------------------------------------------------------


async def test_a_request_id_is_generated_for_each_request(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthcheck/live")
    second = await client.get("/healthcheck/live")

    assert GENERATED_ID.fullmatch(first.headers["x-request-id"])
    assert GENERATED_ID.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_a_forked_worker_never_repeats_its_parents_request_ids() -> None:
    """Ids are a per-process random half and a count: a child forked by a process manager
    starts its own half, or both would hand out the same ids. (Forked from a fresh
    interpreter: this one runs threads, which forking from is deprecated.)"""
    # Unbuffered writes, and a child that leaves without the interpreter's exit handlers: no
    # buffered output copied by the fork can be written twice (a CI run once saw an odd
    # number of words here).
    script = (
        "import os\n"
        "from service.request_record import request_id_from\n"
        "os.write(1, f'first {request_id_from([])}\\n'.encode())\n"
        "child = os.fork()\n"
        "kind = 'child' if child == 0 else 'parent'\n"
        "os.write(1, f'{kind} {request_id_from([])}\\n'.encode())\n"
        "if child: os.waitpid(child, 0)\n"
        "else: os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    lines = [line.split() for line in done.stdout.splitlines()]
    ids = {words[0]: words[1] for words in lines if len(words) == 2}
    assert len(lines) == 3, (done.stdout, done.stderr)
    assert sorted(ids) == ["child", "first", "parent"], (done.stdout, done.stderr)
    first = ids.pop("first")
    assert all(GENERATED_ID.fullmatch(i) for i in (first, *ids.values()))
    assert ids["parent"][:16] == first[:16]
    assert ids["parent"] != first
    assert ids["child"][:16] != first[:16]


@pytest.mark.parametrize("request_id", ["abc", "Req-1.2_3", "a" * 128])
async def test_a_well_formed_request_id_is_echoed(
    client: httpx.AsyncClient, request_id: str
) -> None:
    response = await client.get("/healthcheck/live", headers={"X-Request-ID": request_id})

    assert response.headers.get_list("x-request-id") == [request_id]


@pytest.mark.parametrize(
    "request_id",
    ["", "a" * 129, "two words", "id;drop", "<script>", b"caf\xc3\xa9"],
    ids=["empty", "too-long", "space", "semicolon", "markup", "non-ascii"],
)
async def test_a_malformed_request_id_is_replaced(
    client: httpx.AsyncClient, request_id: str | bytes
) -> None:
    raw = request_id if isinstance(request_id, bytes) else request_id.encode()
    response = await client.get("/healthcheck/live", headers=[(b"X-Request-ID", raw)])

    assert GENERATED_ID.fullmatch(response.headers["x-request-id"])


async def test_every_response_has_server_timing(client: httpx.AsyncClient, as_staff: Any) -> None:
    _, headers = await as_staff(models.Role.EDITOR)
    responses = [
        await client.get("/healthcheck/live"),
        await client.get("/no/such/page"),
        await client.delete("/healthcheck/live"),
        await client.post("/graphql", json={"query": ANONYMOUS_QUERY}, headers=headers),
        await client.post(
            "/graphql", json={"query": ANONYMOUS_QUERY}, headers={"Authorization": "Bearer bad"}
        ),
    ]

    assert [response.status_code for response in responses] == [200, 404, 405, 200, 401]
    for response in responses:
        assert SERVER_TIMING.fullmatch(response.headers["server-timing"]), response.headers


@pytest.fixture
async def failing_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with a route `/boom` that raises, answered as a server would."""

    async def boom() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_an_unhandled_error_is_a_500_that_still_carries_the_request_id(
    failing_client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await failing_client.get("/boom", headers={"X-Request-ID": "report-me"})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert response.headers["x-request-id"] == "report-me"
    assert SERVER_TIMING.fullmatch(response.headers["server-timing"])
    [line] = access_lines(log_lines(capsys)[1])
    assert line["status"] == 500
    assert line["level"] == "error"
    assert line["request_id"] == "report-me"
    assert "RuntimeError" in json.dumps(line["exception"])


# --- Logs --------------------------------------------------------------------------------------


@pytest.mark.parametrize("alone", [True, False], ids=["written-directly", "through-logging"])
async def test_a_graphql_request_is_logged_with_its_operation_and_error_codes(
    client: httpx.AsyncClient,
    as_staff: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    alone: bool,
) -> None:
    _, headers = await as_staff(models.Role.EDITOR)
    token = headers["Authorization"].removeprefix("Bearer ")
    log_lines(capsys)  # forget the set-up's lines

    with our_handler_alone(monkeypatch) if alone else contextlib.nullcontext():
        response = await client.post(
            "/graphql",
            json={"query": STAFF_QUERY, "variables": {"search": "variable-sentinel-3b9d"}},
            headers={**headers, "X-Request-ID": "graphql-1", "Cookie": "session=cookie-sentinel"},
        )

    assert response.status_code == 200
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    text, lines = log_lines(capsys)
    [line] = access_lines(lines)
    duration = line.pop("duration_ms")
    assert isinstance(duration, float)
    assert duration >= 0
    # The time it was written.
    stamp = line.pop("timestamp")
    assert TIMESTAMP.fullmatch(stamp)
    written = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - written).total_seconds()) < 60
    assert line == {
        "event": "request",
        "logger": "broadsheet.access",
        "level": "info",
        "request_id": "graphql-1",
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "graphql_operation": "StaffPosts",
        "graphql_operation_type": "query",
        "graphql_error_codes": ["BAD_USER_INPUT"],
    }
    assert token not in text
    assert "cookie-sentinel" not in text
    assert "variable-sentinel" not in text


async def test_failed_operations_are_logged_with_the_codes_clients_see(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    unparsable = await client.post("/graphql", json={"query": "{ posts("})
    invalid = await client.post("/graphql", json={"query": "query Bad { nope }"})
    mutation = await client.post("/graphql", json={"query": CREATE_TAG})

    logged = [
        (line["graphql_operation"], line["graphql_operation_type"], line["graphql_error_codes"])
        for line in access_lines(log_lines(capsys)[1])
    ]
    codes = [error_codes(response.json()) for response in (unparsable, invalid, mutation)]
    assert all(len(found) == 1 and found[0] for found in codes), codes
    assert logged == [
        (None, "unknown", codes[0]),
        ("Bad", "query", codes[1]),
        ("Tagging", "mutation", codes[2]),
    ]


@pytest.mark.parametrize("settings", [{**METRICS_ON, "graphql_batch_max": 5}], indirect=True)
async def test_a_batch_logs_and_counts_each_operation(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await client.post("/graphql", json=[{"query": HOME_QUERY}, {"query": BROKEN_QUERY}])

    assert response.status_code == 200, response.text
    [line] = access_lines(log_lines(capsys)[1])
    assert sorted(line["graphql_operation"].split(",")) == ["Broken", "Home"]
    assert line["graphql_operation_type"] == "query,query"
    assert line["graphql_error_codes"] == ["BAD_USER_INPUT"]
    assert line["graphql_batch_size"] == 2
    after = samples((await client.get("/metrics")).text)
    operations = "broadsheet_graphql_operations_total"
    assert sample(after, operations, operation_type="query", operation_name="Home") == 1
    assert sample(after, operations, operation_type="query", operation_name="Broken") == 1


@pytest.mark.parametrize("settings", [{"max_body_bytes": 100}], indirect=True)
async def test_a_refused_body_still_gets_a_request_id_and_a_log_line(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ settings { title } }" + " " * 200},
        headers={"X-Request-ID": "big-1"},
    )

    assert response.status_code == 413
    assert response.headers["x-request-id"] == "big-1"
    [line] = access_lines(log_lines(capsys)[1])
    assert (line["request_id"], line["status"]) == ("big-1", 413)


async def test_secrets_never_reach_the_logs(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    login = await client.post(
        "/api/v1/auth/token",
        data={"username": "nobody@example.com", "password": "password-sentinel-91d2"},
    )
    with_key = await client.post(
        "/graphql", json={"query": ANONYMOUS_QUERY}, headers={"X-Api-Key": "apikey-sentinel-4e7a"}
    )
    over_get = await client.get(
        "/graphql",
        params={
            "query": "query Q($s: String) { posts(search: $s) { totalCount } }",
            "variables": json.dumps({"s": "get-variable-sentinel"}),
        },
        headers={"Accept": "application/json"},
    )

    inline = await client.post("/graphql", json={"query": INLINE_PASSWORD})

    text, lines = log_lines(capsys)
    assert [login.status_code, with_key.status_code, over_get.status_code] == [401, 401, 200]
    assert "errors" in inline.json()
    assert [line["path"] for line in access_lines(lines)] == [
        "/api/v1/auth/token",
        "/graphql",
        "/graphql",
        "/graphql",
    ]
    for secret in ("password-sentinel", "apikey-sentinel", "get-variable-sentinel"):
        assert secret not in text


# A resolver failing is Strawberry's to report: the compiled path has no resolvers to fail.
@pytest.mark.parametrize("settings", [{"compiled_queries": "off"}], indirect=True)
async def test_an_unexpected_graphql_error_is_logged_with_the_request_and_operation(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(cls: type[SiteSettings], model: object) -> SiteSettings:
        raise RuntimeError("settings exploded")

    monkeypatch.setattr(SiteSettings, "from_model", classmethod(explode))

    response = await client.post(
        "/graphql", json={"query": HOME_QUERY}, headers={"X-Request-ID": "unexpected-1"}
    )

    assert error_codes(response.json()) == ["INTERNAL_SERVER_ERROR"]
    lines = log_lines(capsys)[1]
    [unexpected] = [line for line in lines if line["event"].startswith("unexpected error")]
    assert unexpected["request_id"] == "unexpected-1"
    assert unexpected["graphql_operation"] == "Home"
    assert "settings exploded" in json.dumps(unexpected["exception"])
    [access] = access_lines(lines)
    assert access["graphql_error_codes"] == ["INTERNAL_SERVER_ERROR"]


async def test_every_log_line_of_a_request_carries_its_id_and_no_more(
    app: FastAPI, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    async def chatty() -> dict[str, str]:
        logging.getLogger("tests.stdlib").warning("from the standard library")
        structlog.get_logger("tests.structlog").warning(
            "signing someone in", password="hunter2-sentinel", access_token="jwt-sentinel"
        )
        return {}

    app.add_api_route("/chatty", chatty)

    await client.get("/chatty", headers={"X-Request-ID": "chatty-1"})
    logging.getLogger("tests.stdlib").warning("after the request")

    text, lines = log_lines(capsys)
    by_event = {line["event"]: line for line in lines}
    assert by_event["from the standard library"]["request_id"] == "chatty-1"
    assert by_event["signing someone in"]["request_id"] == "chatty-1"
    assert by_event["signing someone in"]["password"] == "[redacted]"
    assert by_event["request"]["request_id"] == "chatty-1"
    assert "request_id" not in by_event["after the request"]
    assert "hunter2-sentinel" not in text
    assert "jwt-sentinel" not in text


@pytest.mark.parametrize("settings", [{"log_json": None}], indirect=True)
async def test_development_logs_are_console_text(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await client.get("/healthcheck/live", headers={"X-Request-ID": "console-1"})

    text, lines = log_lines(capsys)
    assert lines == []
    [line] = [line for line in text.splitlines() if "request_id=console-1" in line]
    assert "path=/healthcheck/live" in line
    assert "status=200" in line


@pytest.mark.parametrize("settings", [{"log_json": None, "env": "production"}], indirect=True)
async def test_production_logs_are_json(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await client.get("/healthcheck/live", headers={"X-Request-ID": "json-1"})

    [line] = access_lines(log_lines(capsys)[1])
    assert line["request_id"] == "json-1"
    assert line["status"] == 200


@pytest.mark.parametrize("settings", [{"log_json": None, "env": "production"}], indirect=True)
async def test_production_writes_access_lines_together_errors_at_once(
    app: FastAPI,
    failing_client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def written() -> list[str]:
        return [line["request_id"] for line in access_lines(log_lines(capsys)[1])]

    monkeypatch.setattr(logs, "FLUSH_SECONDS", 3600.0)
    with our_handler_alone(monkeypatch):
        for request_id in ("together-1", "together-2"):
            await failing_client.get("/healthcheck/live", headers={"X-Request-ID": request_id})
        waiting = written()
        await failing_client.get("/boom", headers={"X-Request-ID": "together-3"})
        with_the_error = written()
        await failing_client.get("/healthcheck/live", headers={"X-Request-ID": "together-4"})
        app.state.access_log.flush()  # as the app's shutdown does
        at_shutdown = written()

        monkeypatch.setattr(logs, "FLUSH_SECONDS", 0.01)
        await failing_client.get("/healthcheck/live", headers={"X-Request-ID": "together-5"})
        await asyncio.sleep(0.1)  # wakes after the flush, whose time came first
        after_a_while = written()

    assert waiting == []
    assert with_the_error == ["together-1", "together-2", "together-3"]  # in order
    assert at_shutdown == ["together-4"]
    assert after_a_while == ["together-5"]


def test_an_access_line_reads_the_same_written_directly_or_through_the_processors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing bound to structlog's context, AccessLog adds the processors' keys itself
    (cheaper); with something bound, the processors run, redaction included. Both lines
    must read alike, key for key, in the same order."""
    access = logs.configure_logging(json=True)
    fields = {"method": "GET", "path": "/graphql", "status": 200, "duration_ms": 0.5}
    token = enter(RequestRecord(request_id="same-line"))
    try:
        with our_handler_alone(monkeypatch):
            access.write(dict(fields), error=False, failure=None)
            with structlog.contextvars.bound_contextvars(api_token="token-sentinel"):
                access.write(dict(fields), error=False, failure=None)
    finally:
        leave(token)
    text, lines = log_lines(capsys)
    direct, processed = access_lines(lines)
    assert "token-sentinel" not in text
    assert processed.pop("api_token") == "[redacted]"
    for line in (direct, processed):
        assert TIMESTAMP.fullmatch(line.pop("timestamp"))
    assert list(direct.items()) == list(processed.items())
    assert direct["request_id"] == "same-line"


def test_waiting_access_lines_go_out_in_writes_a_pipe_keeps_whole() -> None:
    """Several workers share stderr: a write of at most PIPE_BUF bytes to a pipe is never
    split by another's, so the lines are grouped into such writes, never cut."""
    lines = [f'{{"n": {n}, "pad": "{"é" * (n % 700)}"}}\n'.encode() for n in range(300)]
    chunks = logs._atomic_chunks(lines)
    assert b"".join(chunks) == b"".join(lines)
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert all(len(chunk) <= select.PIPE_BUF for chunk in chunks)
    assert len(chunks) < len(lines) / 5


async def test_a_broken_log_pipe_does_not_fail_requests(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BrokenPipe(io.StringIO):
        def write(self, _: str) -> int:
            raise BrokenPipeError

    with our_handler_alone(monkeypatch):
        monkeypatch.setattr(sys, "stderr", BrokenPipe())
        first = await client.get("/healthcheck/live", headers={"X-Request-ID": "lost-1"})
        second = await client.get("/healthcheck/live")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["x-request-id"] == "lost-1"


async def test_access_lines_reach_any_other_handler_configured(
    client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="broadsheet.access"):
        await client.get("/healthcheck/live", headers={"X-Request-ID": "shipped-1"})

    [record] = [r for r in caplog.records if r.name == "broadsheet.access"]
    assert record.levelname == "INFO"
    [line] = access_lines(log_lines(capsys)[1])
    assert line["request_id"] == "shipped-1"


@pytest.mark.parametrize("settings", [{"log_json": True, "log_level": "WARNING"}], indirect=True)
async def test_above_info_only_failed_requests_are_logged(
    failing_client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = await failing_client.get("/healthcheck/live")
    failed = await failing_client.get("/boom")

    assert (ok.status_code, failed.status_code) == (200, 500)
    [line] = access_lines(log_lines(capsys)[1])
    assert (line["path"], line["level"]) == ("/boom", "error")


# --- Metrics -----------------------------------------------------------------------------------


async def test_metrics_are_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")

    assert response.status_code == 404


@pytest.mark.parametrize("settings", [METRICS_WITH_TOKEN], indirect=True)
async def test_metrics_need_the_token_when_one_is_set(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    wrong_scheme = await client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"})
    right = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})

    assert [anonymous.status_code, wrong.status_code, wrong_scheme.status_code] == [401] * 3
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200
    assert right.headers["content-type"].startswith("text/plain")
    assert "broadsheet_http_requests_total" in right.text


@pytest.mark.parametrize("settings", [METRICS_ON], indirect=True)
async def test_metrics_are_open_when_no_token_is_set(client: httpx.AsyncClient) -> None:
    await client.get("/healthcheck/live")
    response = await client.get("/metrics")

    assert response.status_code == 200
    assert "broadsheet_http_request_duration_seconds_bucket" in response.text


@pytest.mark.parametrize("settings", [METRICS_WITH_TOKEN], indirect=True)
async def test_metrics_count_requests_operations_and_errors(client: httpx.AsyncClient) -> None:
    before = samples(await scrape(client))

    await client.get("/healthcheck/live")
    await client.get("/healthcheck/live")
    await client.get("/no/such/page/123")
    await client.request("BREW", "/healthcheck/live")
    await client.post("/graphql", json={"query": BROKEN_QUERY})
    await client.post("/graphql", json={"query": ANONYMOUS_QUERY})
    exposition = await scrape(client)
    after = samples(exposition)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    requests = "broadsheet_http_requests_total"
    assert moved(requests, method="GET", route="/healthcheck/live", status="200") == 2
    assert moved(requests, method="GET", route="unmatched", status="404") == 1
    assert moved(requests, method="OTHER", route="/healthcheck/live", status="405") == 1
    assert moved(requests, method="POST", route="/graphql", status="200") == 2
    assert "/no/such/page/123" not in exposition
    latency = "broadsheet_http_request_duration_seconds"
    assert moved(f"{latency}_count", method="GET", route="/healthcheck/live") == 2
    assert moved(f"{latency}_sum", method="GET", route="/healthcheck/live") > 0
    operations = "broadsheet_graphql_operations_total"
    assert moved(operations, operation_type="query", operation_name="Broken") == 1
    assert moved(operations, operation_type="query", operation_name="(anonymous)") == 1
    assert moved("broadsheet_graphql_errors_total", code="BAD_USER_INPUT") == 1


@pytest.mark.parametrize("settings", [METRICS_WITH_TOKEN], indirect=True)
async def test_metrics_show_checked_out_database_connections(
    client: httpx.AsyncClient, db: Database
) -> None:
    idle = samples(await scrape(client))
    async with db.engine.connect():
        busy = samples(await scrape(client))

    returned = samples(await scrape(client))

    assert sample(idle, "broadsheet_db_pool_checked_out_connections") == 0
    assert sample(busy, "broadsheet_db_pool_checked_out_connections") == 1
    assert sample(returned, "broadsheet_db_pool_checked_out_connections") == 0
    assert sample(busy, "broadsheet_db_pool_size") > 0


@pytest.mark.parametrize("settings", [METRICS_WITH_TOKEN], indirect=True)
async def test_each_app_counts_only_its_own_requests(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    other = create_app(settings)
    try:
        async with _client_for(other) as other_client:
            await client.get("/healthcheck/live")
            mine = samples(await scrape(client))
            theirs = samples(await scrape(other_client))
    finally:
        await close_app(other)

    live = {"method": "GET", "route": "/healthcheck/live", "status": "200"}
    assert sample(mine, "broadsheet_http_requests_total", **live) == 1
    assert sample(theirs, "broadsheet_http_requests_total", **live) == 0


def _client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://other")


# --- Metrics of several worker processes (a real server) ---------------------------------------

LIVE = {"method": "GET", "route": "/healthcheck/live", "status": "200"}
SCRAPE = {"method": "GET", "route": "/metrics", "status": "200"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
T = TypeVar("T")


def eventually(check: Callable[[], T | None], what: str, *, seconds: float = 30) -> T:
    """What `check` returns once it is not None (it is retried until then)."""
    deadline = time.monotonic() + seconds
    while (found := check()) is None:
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.1)
    return found


def get_on_new_connections(url: str, count: int) -> None:
    """`count` GETs, eight at a time, each on a connection of its own: the kernel gives each
    new connection to whichever worker accepts it first."""
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: httpx.get(url).status_code, range(count)))
    assert statuses == [200] * count


def counted_by_worker(server: LiveServer, labels: dict[str, str]) -> dict[str, float]:
    """broadsheet_http_requests_total{labels} in each worker's own file, by pid: who answered
    what, which no scrape tells."""
    counted: dict[str, float] = {}
    for path in server.metrics_directory().glob("counter_*.db"):
        families = MultiProcessCollector.merge([str(path)])  # type: ignore[no-untyped-call]
        counted[path.stem.removeprefix("counter_")] = sum(
            found.value
            for family in families
            for found in family.samples
            if found.name == "broadsheet_http_requests_total" and found.labels == labels
        )
    return counted


def settled_counts(server: LiveServer, labels: dict[str, str], *, total: int) -> list[float]:
    """Each worker's count of such requests, once all `total` are counted: a request is
    counted just after its answer is sent."""

    def settled() -> list[float] | None:
        counts = list(counted_by_worker(server, labels).values())
        return counts if sum(counts) == total else None

    return eventually(settled, f"{total} requests {labels} counted")


def both_workers(counts: list[float]) -> bool:
    return len([count for count in counts if count]) == 2


def pool_pids(values: Samples) -> set[str]:
    """The workers whose pool a scrape shows (one series each, by pid)."""
    return {dict(labels)["pid"] for name, labels in values if name == "broadsheet_db_pool_size"}


def test_the_shared_directory_starts_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(metrics.MULTIPROCESS_DIR_VARIABLE, raising=False)
    with metrics.shared_metrics_directory() as made:
        assert os.environ[metrics.MULTIPROCESS_DIR_VARIABLE] == made
        assert list(Path(made).iterdir()) == []
    assert metrics.MULTIPROCESS_DIR_VARIABLE not in os.environ
    assert not Path(made).exists()

    # One the operator chose is emptied of metrics from an earlier run, and kept.
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"old counts")
    (given / "gauge_liveall_77.db").write_bytes(b"old gauge")
    (given / "README").write_text("not ours")
    (given / "broadsheet.db").write_bytes(b"a database kept beside them")
    monkeypatch.setenv(metrics.MULTIPROCESS_DIR_VARIABLE, str(given))
    with metrics.shared_metrics_directory() as used:
        assert used == str(given)
        assert sorted(path.name for path in given.iterdir()) == ["README", "broadsheet.db"]
    assert given.exists()


@pytest.mark.parametrize("cli", [True, False], ids=["broadsheet-serve", "uvicorn-as-documented"])
def test_every_scrape_counts_the_requests_of_every_worker(
    database_url: str, tmp_path: Path, cli: bool
) -> None:
    metrics_on = {"BROADSHEET_METRICS_ENABLED": "true"}
    with running_server(database_url, tmp_path, workers=2, settings=metrics_on, cli=cli) as server:
        live_url, metrics_url = f"{server.url}/healthcheck/live", f"{server.url}/metrics"
        # Until both workers have answered some: the kernel hands out new connections.
        sent = 0
        while sent == 0 or not both_workers(settled_counts(server, LIVE, total=sent)):
            assert sent < 400, f"one worker answered them all: {counted_by_worker(server, LIVE)}"
            get_on_new_connections(live_url, 20)
            sent += 20
        # Each on a new connection, until both workers have answered scrapes.
        scrapes = [samples(httpx.get(metrics_url).text)]
        while not both_workers(settled_counts(server, SCRAPE, total=len(scrapes))):
            assert len(scrapes) < 50, f"one worker answered all {len(scrapes)} scrapes"
            scrapes.append(samples(httpx.get(metrics_url).text))

        latency = "broadsheet_http_request_duration_seconds_count"
        timed = {"method": "GET", "route": "/healthcheck/live"}
        assert [sample(values, "broadsheet_http_requests_total", **LIVE) for values in scrapes] == [
            sent
        ] * len(scrapes)
        assert [sample(values, latency, **timed) for values in scrapes] == [sent] * len(scrapes)
        # One pool series for each worker.
        [workers] = {frozenset(pool_pids(values)) for values in scrapes}
        assert len(workers) == 2

        # One worker fewer (uvicorn's SIGTTOU): what it counted still counts, its pool goes.
        os.kill(server.pid, signal.SIGTTOU)

        def one_worker_left() -> Samples | None:
            values = samples(httpx.get(metrics_url).text)
            return values if len(pool_pids(values)) == 1 else None

        after = eventually(one_worker_left, "one worker's pool left in the scrape")
        assert pool_pids(after) < workers
        assert sample(after, "broadsheet_http_requests_total", **LIVE) == sent
        assert sample(after, latency, **timed) == sent

    if cli:
        assert not list(tmp_path.glob("broadsheet-metrics-*")), "serve leaves no directory behind"
