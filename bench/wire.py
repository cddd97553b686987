"""Counting SQL statements on the wire, for a PostgreSQL without pg_stat_statements.

pg_stat_statements only works when PostgreSQL preloads it (`shared_preload_libraries`, a
restart: not something to do to a server others are using), and PostgreSQL's other counters
count transactions, not statements, and reach the statistics up to 10 s late. So when it is
missing, bench/compare.py starts each server a second time, connected through this proxy,
and counts what the server sends: every Query message, and every Execute of an extended-
protocol statement, told apart from transaction control by the statement's text (the
statements pg_stat_statements would count, one per Execute).

The proxy reads the client's side only; PostgreSQL's answers are passed on untouched. It
refuses TLS and GSS encryption itself (one `N`, as a server without them answers), so the
clients, which prefer encryption but do not insist on it here, talk in the clear.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import struct
from dataclasses import dataclass

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
# Statements that only begin or end transactions: reported apart (load.py for
# pg_stat_statements' texts, here for the wire's).
TRANSACTION_CONTROL = r"^\s*(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|END|SAVEPOINT|RELEASE)\b"
CONTROL_BYTES = re.compile(TRANSACTION_CONTROL.encode(), re.IGNORECASE)


@dataclass(frozen=True)
class Counted:
    statements: int
    control: int  # BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE


class StatementProxy:
    """A TCP proxy on a free port of 127.0.0.1 in front of PostgreSQL at `host`:`port`."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self._statements = 0
        self._control = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._connections:
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def take(self) -> Counted:
        """The counts since the last take, and start again from zero."""
        counted = Counted(self._statements, self._control)
        self._statements = self._control = 0
        return counted

    async def _serve(self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        to_server: asyncio.StreamWriter | None = None
        answers: asyncio.Task[None] | None = None
        try:
            server, to_server = await asyncio.open_connection(*self.upstream)
            answers = asyncio.create_task(_pass_on(server, to_client))
            await self._requests(client, to_client, to_server)
        except (OSError, asyncio.IncompleteReadError):
            pass  # either side closed: close the other
        finally:
            if answers is not None:
                answers.cancel()
            for writer in (to_client, to_server):
                if writer is not None:
                    writer.close()
            self._connections.discard(task)

    async def _requests(
        self,
        client: asyncio.StreamReader,
        to_client: asyncio.StreamWriter,
        to_server: asyncio.StreamWriter,
    ) -> None:
        # The start-up packets carry no type byte: a length, then a code or protocol version.
        while True:
            head = await client.readexactly(8)
            length, code = struct.unpack("!ii", head)
            rest = await client.readexactly(length - 8)
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                to_client.write(b"N")
                continue
            to_server.write(head + rest)
            break
        prepared: dict[bytes, bytes] = {}  # statement name -> text (Parse)
        portals: dict[bytes, bytes] = {}  # portal name -> text (Bind)
        while True:
            head = await client.readexactly(5)
            kind = head[:1]
            body = await client.readexactly(struct.unpack("!i", head[1:])[0] - 4)
            # Counted before it is passed on: the count is complete once the answer is back.
            if kind == b"P":
                name, text, _ = body.split(b"\0", 2)
                prepared[name] = text
            elif kind == b"B":
                portal, name, _ = body.split(b"\0", 2)
                portals[portal] = prepared.get(name, b"")
            elif kind == b"E":
                self._count(portals.get(body.split(b"\0", 1)[0], b""))
            elif kind == b"Q":
                self._count(body.rstrip(b"\0"))
            to_server.write(head + body)
            await to_server.drain()
            if kind == b"X":  # Terminate
                return

    def _count(self, text: bytes) -> None:
        if CONTROL_BYTES.match(text):
            self._control += 1
        else:
            self._statements += 1


async def _pass_on(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.close()
