"""No N+1: the statements a query costs do not grow with the page size."""

from __future__ import annotations

import httpx
import pytest

from db.engine import Database
from tests.conftest import StatementCounter
from tests.factories import create_post, create_tag, create_user
from tests.helpers import graphql_data

POSTS = "query($n: Int) { posts(first: $n) { nodes { authors { name } tags { name } primaryTag { slug } } } }"
TAGS = (
    "query($n: Int) { tags(first: $n) { nodes { postCount posts(first: 5) { nodes { title } } } } }"
)
HOMEPAGE = """query($n: Int) { settings { title } posts(first: $n) { totalCount nodes { title url
  authors { name } primaryAuthor { name } tags { name } primaryTag { slug } } } }"""


@pytest.fixture
async def corpus(db: Database) -> None:
    writers = [await create_user(db) for _ in range(3)]
    tags = [await create_tag(db, f"Tag {n}") for n in range(100)]
    for n in range(100):
        await create_post(
            db,
            f"Post {n}",
            authors=[writers[n % 3], writers[(n + 1) % 3]],
            tags=[tags[n], tags[(n + 1) % 100]],
        )


async def _cost(client: httpx.AsyncClient, sql: StatementCounter, query: str, n: int) -> int:
    sql.reset()
    data = await graphql_data(client, query, {"n": n})
    assert data
    return sql.count


@pytest.mark.usefixtures("corpus")
@pytest.mark.parametrize(("query", "expected"), [(POSTS, 3), (TAGS, 3), (HOMEPAGE, 5)])
async def test_statement_count_does_not_grow_with_page_size(
    client: httpx.AsyncClient, sql: StatementCounter, query: str, expected: int
) -> None:
    small = await _cost(client, sql, query, 5)
    large = await _cost(client, sql, query, 100)
    assert small == large == expected, sql.statements
