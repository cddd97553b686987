"""Worker threads for CPU-heavy steps of a request, so the event loop keeps answering every
other request (health checks included) while one is parsed, validated or rendered. The
interpreter makes a busy thread yield to the loop every few milliseconds.

Each kind of work has its own small lane: a client sending many of one kind delays only
the others sending the same kind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

# New GraphQL documents (parse, validate) and compiled plans: few threads, as each is CPU work
# and the loop's own thread competes with them all for the interpreter.
DOCUMENTS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="graphql-documents")
# Documents too long to keep are prepared on every request.
LONG_DOCUMENTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphql-long-documents")
# Markdown bodies rendered and sanitised on a write.
RENDERING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rendering")


async def off_the_loop(
    work: Callable[..., T], *args: Any, lane: ThreadPoolExecutor = DOCUMENTS
) -> T:
    """Run `work(*args)` in a thread of `lane`."""
    return await asyncio.get_running_loop().run_in_executor(lane, work, *args)
