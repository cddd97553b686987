"""Python's `gql` against a live server: it introspects the schema first and validates every
document against it before sending, as a typed Python frontend or integration would."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.client import SyncClientSession
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from graphql import GraphQLError

from tests.live_server import LiveServer

HOMEPAGE = """
query Homepage($first: Int!) {
  settings { title navigation { label url } }
  posts(first: $first) {
    totalCount
    nodes { id title slug publishedAt primaryAuthor { name slug } tags { name slug } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
POST_BY_SLUG = """
query Post($slug: String!) { post(slug: $slug) { id title status authors { slug } } }
"""
NODE = "query Node($id: ID!) { node(id: $id) { __typename ... on Post { slug } } }"
VIEWER = "query { viewer { email role } }"


def session_for(
    server: LiveServer, headers: dict[str, str] | None = None
) -> Iterator[SyncClientSession]:
    transport = HTTPXTransport(url=server.graphql_url, headers=headers, timeout=30)
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        yield session


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[SyncClientSession]:
    yield from session_for(live_server)


def test_the_schema_is_introspected_and_queries_run(client: SyncClientSession) -> None:
    home = client.execute(GraphQLRequest(gql(HOMEPAGE), variable_values={"first": 15}))

    schema = client.client.schema  # fetched from the server, not given
    assert schema is not None
    assert schema.get_type("Post") is not None
    assert home["settings"]["title"]
    posts = home["posts"]["nodes"]
    assert len(posts) == 15
    assert home["posts"]["totalCount"] >= 50
    assert home["posts"]["pageInfo"]["hasNextPage"] is True
    dates = [post["publishedAt"] for post in posts]
    assert dates == sorted(dates, reverse=True)
    assert all(post["primaryAuthor"]["name"] for post in posts)

    first = posts[0]
    post = client.execute(GraphQLRequest(gql(POST_BY_SLUG), variable_values=first))["post"]
    assert post["id"] == first["id"]
    assert post["status"] == "PUBLISHED"
    node = client.execute(GraphQLRequest(gql(NODE), variable_values={"id": first["id"]}))
    assert node == {"node": {"__typename": "Post", "slug": first["slug"]}}


def test_a_document_the_schema_does_not_allow_never_leaves_the_client(
    client: SyncClientSession,
) -> None:
    with pytest.raises(GraphQLError, match="Cannot query field 'titel' on type 'Post'"):
        client.execute(gql("{ posts { nodes { titel } } }"))


def test_server_errors_carry_their_code(client: SyncClientSession) -> None:
    request = GraphQLRequest(gql(HOMEPAGE), variable_values={"first": 101})

    with pytest.raises(TransportQueryError) as raised:
        client.execute(request)

    assert raised.value.errors is not None
    assert raised.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_signed_in_client_is_staff(live_server: LiveServer) -> None:
    login = httpx.post(
        f"{live_server.url}/api/v1/auth/token",
        data={
            "username": live_server.demo.owner_email,
            "password": live_server.demo.owner_password,
        },
        timeout=30,
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

    for session in session_for(live_server, headers):
        viewer = session.execute(gql(VIEWER))

    assert viewer == {"viewer": {"email": live_server.demo.owner_email, "role": "OWNER"}}
