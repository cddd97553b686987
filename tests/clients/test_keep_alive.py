"""Bad requests over one keep-alive connection to a real uvicorn: each is answered with a
client error, and the server keeps the connection open (it closes it after an unhandled
exception, which is how an outside test first noticed them)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode, urlsplit

from tests.live_server import LiveServer

JSON = {"content-type": "application/json"}
BOMB = (
    "{ ...F0 } "
    + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    + " fragment F30 on Query { __typename }"
)
# (method, path, body, headers, expected status)
REQUESTS: list[tuple[str, str, bytes | None, dict[str, str], int]] = [
    ("POST", "/graphql", b"null", JSON, 400),
    ("POST", "/graphql", b'{"query": "{ __typename }", "variables": {"s": "\\ud800"}}', JSON, 400),
    ("POST", "/graphql", b"[" * 5000 + b"]" * 5000, JSON, 400),
    (
        "POST",
        "/graphql",
        b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}",
        JSON,
        400,
    ),
    ("POST", "/graphql", b'{"query": "{ posts(search: \\"\xff\\") { totalCount } }"}', JSON, 400),
    (
        "POST",
        "/graphql",
        json.dumps(
            {"query": "query($s: String!) { post(slug: $s) { id } }", "variables": {"s": "a\x00"}}
        ).encode(),
        JSON,
        200,
    ),
    ("POST", "/graphql", json.dumps({"query": BOMB}).encode(), JSON, 200),
    (
        "POST",
        "/graphql",
        json.dumps({"query": "query A { __typename } query B { __typename }"}).encode(),
        JSON,
        400,
    ),
    (
        "GET",
        "/graphql?" + urlencode({"query": "{ __typename }", "variables": "[" * 3000}),
        None,
        {},
        400,
    ),
    (
        "POST",
        "/api/v1/auth/token",
        b"username=a%00b%40example.com&password=x",
        {"content-type": "application/x-www-form-urlencoded"},
        422,
    ),
    ("POST", "/api/v1/auth/refresh", b'{"refresh_token": "\\ud800"}', JSON, 422),
    ("POST", "/graphql", json.dumps({"query": "{ __typename }"}).encode(), JSON, 200),
]


def test_bad_requests_leave_the_connection_open(live_server: LiveServer) -> None:
    address = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        connection.connect()
        socket = connection.sock
        for method, path, body, headers, status in REQUESTS:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            assert response.status == status, (path, body and body[:80], text[:300])
            assert not response.will_close, (path, body and body[:80])
            assert connection.sock is socket  # the very same connection
    finally:
        connection.close()
