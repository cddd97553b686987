"""Content events and webhooks, measured (issue 14's targets):

    python bench/webhooks.py                      # SQLite, in a temporary directory
    python bench/webhooks.py postgresql+asyncpg://postgres@127.0.0.1:5432/webhooks_bench

1. What the outbox costs a mutation: the SQL statements of updatePost, and how many of them
   touch the outbox (target: one).
2. From commit to first delivery attempt, with the server idle: the time between a mutation's
   answer and the receiver seeing its event (target: median ≤ 1 s).
3. Delivery throughput: events committed in one burst, delivered by a real server to a local
   receiver (target: ≥ 200 events/s on a two-core machine).

Broadsheet runs as users run it (uvicorn, one worker; development settings, since production
refuses plain http targets, and private targets allowed), in a child process; the receiver
is a threaded HTTP server in this process. The PostgreSQL database is emptied first: give it
one of its own.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from processes import free_port  # bench/processes.py, beside this file
from sqlalchemy import event, text

from db import models, outbox
from db.base import utcnow
from db.engine import Database
from service import migrations
from service.tokens import digest

REPOSITORY = Path(__file__).resolve().parent.parent
ADMIN_KEY = "bsk_bench_webhooks"
BURST = 2000
LATENCY_SAMPLES = 20


class Receiver:
    """Counts arrivals (and when each event id first arrived), answering 200 at once."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                with receiver.lock:
                    receiver.arrivals.setdefault(self.headers["webhook-id"], time.monotonic())
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


async def prepare(url: str) -> list[int]:
    """An owner, an ADMIN key and 50 published posts, in a migrated, empty database."""
    db = Database.connect(url)
    try:
        async with db.write_sessions.begin() as session:
            owner = models.User(
                name="Owner", slug="owner", email="owner@example.com",
                role=models.Role.OWNER, status=models.UserStatus.ACTIVE,
            )  # fmt: skip
            session.add(owner)
            session.add(
                models.ApiKey(
                    name="bench", scope=models.ApiKeyScope.ADMIN,
                    key_hash=digest(ADMIN_KEY), prefix="bsk_benc",
                )
            )  # fmt: skip
            await session.flush()
            posts = []
            for n in range(50):
                post = models.Post(
                    type=models.PostType.POST, status=models.PostStatus.PUBLISHED,
                    title=f"Post {n}", slug=f"post-{n}", markdown="Body", html="<p>Body</p>",
                    plaintext="Body", published_at=utcnow(),
                )  # fmt: skip
                session.add(post)
                posts.append(post)
            await session.flush()
            for post in posts:
                session.add(models.PostAuthor(post_id=post.id, author_id=owner.id))
            return [post.id for post in posts]
    finally:
        await db.dispose()


async def outbox_statements(url: str, post_id: int) -> tuple[int, int]:
    """(statements of one updatePost, of which touching the outbox), in this process."""
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(database_url=url, secret_key="k" * 48, _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    statements: list[str] = []

    def count(_c: Any, _cu: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "PRAGMA")):
            statements.append(statement)

    engine = app.state.db.engine.sync_engine
    from graphql_schema.ids import to_global_id

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:
        document = (
            'mutation($id: ID!) { updatePost(input: {id: $id, title: "Changed"}) { post { id } } }'
        )
        event.listen(engine, "before_cursor_execute", count)
        response = await client.post(
            "/graphql",
            json={"query": document, "variables": {"id": to_global_id("Post", post_id)}},
            headers={"X-Api-Key": ADMIN_KEY},
        )
        event.remove(engine, "before_cursor_execute", count)
        assert "errors" not in response.json(), response.text
    await app.state.db.dispose()
    return len(statements), sum("events" in s.lower() for s in statements)


def start_server(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADSHEET_")}
    env.update(
        BROADSHEET_DATABASE_URL=url, BROADSHEET_SECRET_KEY="k" * 48,
        BROADSHEET_WEBHOOK_ALLOW_PRIVATE="true",
        BROADSHEET_LOG_LEVEL="WARNING",
        PYTHONPATH=str(REPOSITORY),
    )  # fmt: skip
    command = [
        sys.executable, "-m", "uvicorn", "service.app:create_app", "--factory",
        "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=workdir, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthcheck", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server never became ready")


async def graphql(client: httpx.AsyncClient, base: str, query: str, **variables: Any) -> Any:
    response = await client.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"X-Api-Key": ADMIN_KEY},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def burst(url: str, size: int) -> None:
    """Commit `size` events in one transaction, each about its own post (no ordering waits)."""
    db = Database.connect(url)
    try:
        async with db.write_sessions.begin() as session:
            for n in range(size):
                outbox.record(
                    session,
                    outbox.PendingEvent("post.updated", f"post:{1_000_000 + n}", {"n": n}),
                )
            await session.execute(text("SELECT 1"))  # a statement, so the session begins
    finally:
        await db.dispose()


async def main(url: str) -> None:
    post_ids = await prepare(url)
    total, touching = await outbox_statements(url, post_ids[0])
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as workdir:
        process, base = start_server(url, Path(workdir))
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                created = await graphql(
                    client, base,
                    'mutation($url: String!) { createWebhook(input: {url: $url, '
                    'events: ["post.updated"]}) { secret userErrors { message } } }',
                    url=receiver.url,
                )  # fmt: skip
                assert created["createWebhook"]["userErrors"] == [], created
                from graphql_schema.ids import to_global_id

                latencies = []
                for n in range(LATENCY_SAMPLES):
                    before = receiver.count()
                    await graphql(
                        client, base,
                        'mutation($id: ID!, $t: String!) { updatePost(input: {id: $id, '
                        'title: $t}) { post { id } } }',
                        id=to_global_id("Post", post_ids[n % len(post_ids)]), t=f"Title {n}",
                    )  # fmt: skip
                    committed = time.monotonic()
                    while receiver.count() == before:  # noqa: ASYNC110 (another thread counts)
                        await asyncio.sleep(0.001)
                    latencies.append(max(receiver.arrivals.values()) - committed)
                    await asyncio.sleep(0.3)  # idle again
            start_count = receiver.count()
            started = time.monotonic()
            await burst(url, BURST)
            while receiver.count() < start_count + BURST:
                await asyncio.sleep(0.01)
                if time.monotonic() - started > 300:
                    raise SystemExit("the burst was not delivered within 5 minutes")
            elapsed = time.monotonic() - started
        finally:
            process.terminate()
            process.wait()
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"\nContent events and webhooks on {database} ({os.cpu_count()} cores)\n")
    print("| measure | figure | target |")
    print("|---|---|---|")
    median = statistics.median(latencies) * 1000
    p90 = sorted(latencies)[int(0.9 * len(latencies))] * 1000
    rows = [
        ("statements of one updatePost", f"{total}", ""),
        ("of which write the outbox", f"{touching} (post.updated and site.changed)", "≤ 1"),
        (
            "commit → first delivery attempt, server idle",
            f"median {median:.0f} ms (p90 {p90:.0f} ms, {len(latencies)} samples)",
            "≤ 1 s",
        ),
        (
            f"delivery of a {BURST}-event burst to a local receiver",
            f"{BURST / elapsed:.0f} events/s ({elapsed:.1f} s)",
            "≥ 200/s",
        ),
    ]
    for row in rows:
        print(f"| {' | '.join(row)} |")


def run(url: str) -> None:
    if url.startswith("postgresql"):
        migrations.downgrade(url, "base")
    migrations.upgrade(url)
    asyncio.run(main(url))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        run(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as directory:
            run(f"sqlite+aiosqlite:///{directory}/bench.db")
