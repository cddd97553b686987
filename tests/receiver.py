"""A webhook receiver for tests: a real HTTP server on loopback, in a thread, that records
every request and answers as a test tells it to (a status, a Retry-After, a slow answer)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: str
    at: float  # time.monotonic()

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def type(self) -> str:
        return str(self.payload["type"])


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)
    # Decides each answer from the request and how many came before it.
    answer: Callable[[Received, int], Answer] = lambda _request, _count: Answer()
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_type(self, type: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.type == type]

    def requests(self) -> list[Received]:
        with self.lock:
            return list(self.received)

    async def wait_for(
        self, condition: Callable[[list[Received]], bool], within: float = 20.0
    ) -> list[Received]:
        """Wait (letting the event loop run) until `condition` holds for what arrived."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            seen = self.requests()
            if condition(seen):
                return seen
            await asyncio.sleep(0.02)
        seen = self.requests()
        raise AssertionError(
            f"the receiver never saw what was expected; it saw {[(r.type, r.id) for r in seen]}"
        )


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            request = Received(
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length).decode(),
                time.monotonic(),
            )
            with receiver.lock:
                count = len(receiver.received)
                receiver.received.append(request)
            answer = receiver.answer(request, count)
            if answer.delay:
                time.sleep(answer.delay)
            try:
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
