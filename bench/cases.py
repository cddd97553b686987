"""The queries bench/run.py measures, with real variables, and the checks that every one
answers with data before anything is timed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from documents import HOMEPAGE, POST_SLUGS, SINGLE_POST, TAG_ARCHIVE, TAG_SLUGS, VARIANTS_PER_QUERY
from errors import BenchError


@dataclass(frozen=True)
class QueryCase:
    """A named query and the variable sets its requests cycle through."""

    name: str
    query: str
    variables: list[dict[str, Any]] = field(default_factory=lambda: [{}])

    def bodies(self) -> list[bytes]:
        return [json.dumps({"query": self.query, "variables": v}).encode() for v in self.variables]


async def graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    """Post one query; return its `data`, or raise BenchError describing what went wrong."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    if response.status_code != 200:
        raise BenchError(f"HTTP {response.status_code}: {response.text[:2000]}")
    body = response.json()
    if body.get("errors"):
        raise BenchError(f"GraphQL errors: {json.dumps(body['errors'], indent=2)}")
    if not body.get("data"):
        raise BenchError(f"no data in the answer: {response.text[:2000]}")
    return body["data"]


def empty_parts(value: Any, path: str = "data") -> list[str]:
    """Paths of null top-level fields and of empty `nodes` lists: answers that prove nothing."""
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if (item is None and path == "data") or (key == "nodes" and not item):
                found.append(f"{path}.{key}")
            else:
                found.extend(empty_parts(item, f"{path}.{key}"))
        return found
    if isinstance(value, list):
        return [gap for item in value for gap in empty_parts(item, path)]
    return []


def spread(items: list[str], count: int) -> list[str]:
    """Up to `count` items evenly spread over `items`."""
    step = max(1, len(items) // count)
    return items[::step][:count]


async def build_cases(client: httpx.AsyncClient) -> list[QueryCase]:
    """The three standard queries, with real slugs taken from the seeded data."""
    post_slugs = [
        node["slug"] for node in (await graphql(client, POST_SLUGS, {}))["posts"]["nodes"]
    ]
    tag_slugs = [node["slug"] for node in (await graphql(client, TAG_SLUGS, {}))["tags"]["nodes"]]
    if not post_slugs or not tag_slugs:
        raise BenchError("the seeded database has no posts or no tags visible to readers")
    return [
        QueryCase("homepage", HOMEPAGE),
        QueryCase(
            "single post",
            SINGLE_POST,
            [{"slug": slug} for slug in spread(post_slugs, VARIANTS_PER_QUERY)],
        ),
        QueryCase(
            "tag archive",
            TAG_ARCHIVE,
            [{"slug": slug} for slug in spread(tag_slugs, VARIANTS_PER_QUERY)],
        ),
    ]


async def check_cases(client: httpx.AsyncClient, cases: list[QueryCase]) -> None:
    """Every variant of every query answers 200, without errors, with data: else fail loudly."""
    for case in cases:
        for variables in case.variables:
            try:
                data = await graphql(client, case.query, variables)
            except BenchError as error:
                raise BenchError(f"query {case.name!r} {variables} failed: {error}") from None
            gaps = empty_parts(data)
            if gaps:
                raise BenchError(f"query {case.name!r} {variables} answered empty: {gaps}")
