"""Connection arguments with their descriptions, shared by every connection field."""

from __future__ import annotations

from typing import Annotated

import strawberry

First = Annotated[
    int | None,
    strawberry.argument(
        description="Return the first N items after `after` (default 15, max 100)."
    ),
]
After = Annotated[
    str | None, strawberry.argument(description="Cursor: return items after this one.")
]
Last = Annotated[
    int | None,
    strawberry.argument(description="Return the last N items before `before` (max 100)."),
]
Before = Annotated[
    str | None, strawberry.argument(description="Cursor: return items before this one.")
]
Search = Annotated[
    str | None,
    strawberry.argument(
        description="Full-text search over title, excerpt and body, ranked by relevance "
        "unless `orderBy` is given."
    ),
]
