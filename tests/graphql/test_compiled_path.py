"""The compiled path, on SQLite and PostgreSQL: anonymous reads answered by one SQL statement.

The whole suite runs in verify mode (tests/conftest.py): every response the compiled path
gives is also computed by the general path and must be identical byte for byte. These tests
add content chosen to stress the rendering done in SQL (non-ASCII text, odd whitespace in
excerpts, microsecond timestamps, internal tags, schedules coming due), documents using
every GraphQL feature the path compiles, and check which requests it takes and leaves."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from graphql import GraphQLObjectType, get_named_type
from hypothesis import given
from hypothesis_graphql import queries
from sqlalchemy import event, update
from sqlalchemy.engine import make_url

from bench.documents import HOMEPAGE
from db import models
from db.base import utcnow
from db.engine import Database
from graphql_schema.compiled.generation import PING_SQL
from graphql_schema.schema import schema
from graphql_schema.types.stored import is_stored
from service.app import close_app, create_app
from service.settings import Settings
from service.tokens import digest
from tests.conftest import POSTGRES_URL, StatementCounter
from tests.factories import create_post, create_tag, create_user
from tests.graphql.test_fuzz import SCALARS, SDL, Variables, fuzz, post_json, requests
from tests.helpers import graphql, graphql_data, listening

LONG_BODY = (
    "Ünïcödé\u00a0words\u2003and\ttabs,\n\nnew   lines; "
    + "many words follow here, " * 40
    + "and the end."
)
SINGLE_POST = """
query SinglePost($slug: String!) {
  post(slug: $slug) {
    id title slug html plaintext featureImage featureImageAlt featureImageCaption featured
    readingTime metaTitle metaDescription canonicalUrl ogImage publishedAt createdAt updatedAt
    status markdown revisions { id } excerpt url __typename
    authors { id name slug bio profileImage coverImage website location postCount }
    primaryAuthor { name }
    tags { id name slug description featureImage visibility metaTitle metaDescription createdAt updatedAt postCount }
    primaryTag { name }
  }
}
"""
DOCUMENTS: list[tuple[str, dict[str, Any]]] = [
    (HOMEPAGE, {}),
    (SINGLE_POST, {"slug": "long-read"}),
    (SINGLE_POST, {"slug": "no-such-post"}),
    (
        "{ posts(first: 100) { nodes { id title slug publishedAt excerpt featured readingTime featureImage } } }",
        {},
    ),
    (
        "{ authors(first: 20) { nodes { name posts(first: 10) { nodes { title tags { name slug } } } } } }",
        {},
    ),
    (
        '{ posts(first: 5, filter: {tag: {eq: "news"}}, orderBy: [{field: TITLE, direction: ASC}]) { totalCount nodes { title } } }',
        {},
    ),
    ('{ posts(first: 10, search: "words") { totalCount nodes { title excerpt } } }', {}),
    (
        "query Page($first: Int, $after: String) { posts(first: $first, after: $after) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
        {"first": 3},
    ),
    (
        "{ posts(last: 4) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
        {},
    ),
    (
        "{ posts(first: 0) { totalCount nodes { id } pageInfo { hasNextPage startCursor endCursor } } }",
        {},
    ),
    (
        "query Parts($withTags: Boolean!, $skipAuthors: Boolean!) { __typename latest: posts(first: 2) { __typename nodes { ...Card tags @include(if: $withTags) { name } authors @skip(if: $skipAuthors) { name } } } } fragment Card on Post { __typename heading: title ... on Content { slug } ... on Node { id } }",
        {"withTags": True, "skipAuthors": True},
    ),
    (
        '{ tag(slug: "news") { name postCount posts(first: 2) { totalCount nodes { title primaryAuthor { name } } pageInfo { hasNextPage endCursor } } } }',
        {},
    ),
    (
        "query A($slug: String!) { author(slug: $slug) { name bio postCount posts(first: 3, orderBy: [{field: PUBLISHED_AT, direction: ASC}]) { nodes { title publishedAt } } } }",
        {"slug": "zoe-angstrom"},
    ),
    ("{ tags(first: 10) { totalCount nodes { name visibility postCount } } }", {}),
    (
        '{ pages(first: 5) { nodes { title url excerpt status } } page(slug: "about") { title html } }',
        {},
    ),
    (
        "{ settings { title description url logo icon coverImage accentColor locale timezone navigation { label url } secondaryNavigation { url } metaTitle metaDescription updatedAt __typename } }",
        {},
    ),
    (
        '{ posts(first: 5, filter: {or: [{featured: {eq: true}}, {title: {contains: "é"}}]}) { nodes { title featured } } }',
        {},
    ),
    (
        "query Parts($withTags: Boolean!, $skipAuthors: Boolean!) { __typename latest: posts(first: 2) { __typename nodes { ...Card tags @include(if: $withTags) { name } authors @skip(if: $skipAuthors) { name } } } } fragment Card on Post { __typename heading: title ... on Content { slug } ... on Node { id } }",
        {"withTags": False, "skipAuthors": False},
    ),
    (
        "query Maybe($withTags: Boolean = true) { posts(first: 2) { nodes { title tags @include(if: $withTags) { name } } } }",
        {},
    ),
    # Each parent's page cursors from its own rows: authors with different counts, pages
    # cut short (20) and full (3).
    (
        "query Ends($first: Int!) { authors(first: 10) { nodes { name posts(first: $first) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } } } }",
        {"first": 3},
    ),
    (
        "query Ends($first: Int!) { authors(first: 10) { nodes { name posts(first: $first) { pageInfo { startCursor endCursor } } } } }",
        {"first": 20},
    ),
]


@pytest.fixture
async def content(db: Database) -> None:
    zoe = await create_user(db, name="Zoë Ångström")
    ada = await create_user(db, name="Ada")
    news = await create_tag(db, "News")
    hidden = await create_tag(db, "#hidden")
    now = utcnow()
    async with db.write_sessions.begin() as session:
        session.add(
            models.SiteSettings(
                title="Zoë's “Paper”",
                description="Tabs\tand ünïcode",
                url="https://example.com/",
                navigation=[{"label": "Home", "url": "/"}, {"label": "Über", "url": "/uber/"}],
                secondary_navigation=[],
                updated_at=now.replace(microsecond=0),
            )
        )
    await create_post(db, "Long read", authors=[zoe, ada], tags=[news], markdown=LONG_BODY)
    await create_post(db, "Whitespace", authors=[ada], markdown="\u2003 \n\t" * 300 + "tail")
    await create_post(db, "Secret first tag", authors=[zoe], tags=[hidden, news])
    await create_post(db, "Hand-written", authors=[zoe], custom_excerpt="Mine, all mine.")
    await create_post(db, "Featured ☕", authors=[ada], featured=True)
    await create_post(db, "On the second", authors=[ada], published_at=now.replace(microsecond=0))
    # Fractions PostgreSQL's to_json writes shorter than isoformat does (json_sql).
    for microsecond in (500000, 120, 1, 999990):
        when = (now - timedelta(hours=1)).replace(microsecond=microsecond)
        await create_post(db, f"At .{microsecond:06d}", authors=[ada], published_at=when)
    for n in range(12):
        await create_post(db, f"Filler {n} é", authors=[ada, zoe][n % 2 :], tags=[news])
    await create_post(db, "Draft", authors=[zoe], status=models.PostStatus.DRAFT)
    await create_post(
        db,
        "Later",
        authors=[zoe],
        status=models.PostStatus.SCHEDULED,
        published_at=now + timedelta(days=1),
    )
    await create_post(db, "About", authors=[zoe], type=models.PostType.PAGE, slug="about")


def stored_selection(type_name: str, model: type[models.Base]) -> str:
    """Every stored field of a type (graphql_schema.types.stored), by GraphQL name, each a
    column of its model; a list of objects (navigation) with all of its own fields."""
    graphql_type = schema._schema.get_type(type_name)
    assert isinstance(graphql_type, GraphQLObjectType)
    columns = set(model.__table__.columns.keys())  # the planner reads the table's
    selected = []
    for name, field in graphql_type.fields.items():
        definition = field.extensions["strawberry-definition"]
        if not is_stored(definition):
            continue
        assert definition.python_name in columns, f"{type_name}.{name} shows no column"
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLObjectType):
            name = f"{name} {{ {' '.join(inner.fields)} }}"
        selected.append(name)
    return " ".join(selected)


@pytest.mark.usefixtures("content")
async def test_every_stored_field_is_read_alike_by_both_paths(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A field declared on its type with no resolver reads its column on both paths, with no
    list of columns in the planner: a new one is served (and compared) as soon as it is
    declared."""
    content = stored_selection("Post", models.Post)
    assert "excerpt" in content
    assert "visibility" not in content
    tag = stored_selection("Tag", models.Tag)
    assert "visibility" in tag
    document = f"""{{
      posts(first: 5) {{ nodes {{ {content} tags {{ {tag} }} }} }}
      pages(first: 5) {{ nodes {{ {stored_selection("Page", models.Post)} }} }}
      authors(first: 5) {{ nodes {{ {stored_selection("Author", models.User)} }} }}
      settings {{ {stored_selection("Settings", models.SiteSettings)} }}
    }}"""
    queries = app.state.compiled_queries
    before = queries.answered

    data = await graphql_data(client, document)

    assert queries.answered == before + 1  # compiled, and verify mode compared the bytes
    assert all(data[root]["nodes"] for root in ("posts", "pages", "authors"))
    assert data["settings"]["updatedAt"]  # the saved row's, which only it has


@pytest.mark.usefixtures("content")
@pytest.mark.parametrize(("document", "variables"), DOCUMENTS)
async def test_the_compiled_path_answers_as_the_general_path_does(
    app: FastAPI, client: httpx.AsyncClient, document: str, variables: dict[str, Any]
) -> None:
    queries = app.state.compiled_queries
    before = queries.answered
    body = await graphql(client, document, variables)
    assert "errors" not in body
    # Verify mode compared the bytes; this checks the compiled path was the one answering.
    assert queries.answered == before + 1


async def test_a_site_whose_settings_were_never_saved_reads_the_defaults_compiled(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    queries = app.state.compiled_queries
    document = "{ settings { __typename title url description navigation { label } } posts(first: 2) { totalCount } }"

    before = queries.answered
    data = await graphql_data(client, document)

    assert queries.answered == before + 1  # and verify mode found the general path's bytes
    assert data["settings"] == {
        "__typename": "Settings",
        "title": "Broadsheet",
        "url": "http://localhost:8000",
        "description": None,
        "navigation": [],
    }
    # Never saved, `updatedAt` is "now" on the general path: that one answers it.
    data = await graphql_data(client, "{ settings { title updatedAt } }")
    assert queries.answered == before + 1
    assert data["settings"]["updatedAt"]


@pytest.mark.usefixtures("content")
async def test_paging_through_with_cursors_from_the_compiled_path(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    document = DOCUMENTS[7][0]
    seen: list[str] = []
    after = None
    while True:
        data = await graphql_data(client, document, {"first": 4, "after": after})
        connection = data["posts"]
        seen += [edge["node"]["title"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 22  # every public post once; no draft, no schedule
    assert "Draft" not in seen
    assert "Later" not in seen


@pytest.mark.usefixtures("content")
async def test_paging_backwards_from_the_compiled_path(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """last/before from the end to the start: the first page is cut short (22 posts, 5 a
    page), and each page's startCursor is where the next one ends."""
    document = "query Back($before: String) { posts(last: 5, before: $before) { edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    queries = app.state.compiled_queries
    pages: list[list[str]] = []
    before = None
    while True:
        answered = queries.answered
        connection = (await graphql_data(client, document, {"before": before}))["posts"]
        assert queries.answered == answered + 1  # and verify mode found the general path's bytes
        edges = connection["edges"]
        pages.append([edge["node"]["title"] for edge in edges])
        info = connection["pageInfo"]
        assert info["startCursor"] == edges[0]["cursor"]
        assert info["endCursor"] == edges[-1]["cursor"]
        assert info["hasNextPage"] is (before is not None)
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert [len(page) for page in pages] == [5, 5, 5, 5, 2]
    titles = [title for page in reversed(pages) for title in page]
    assert len(set(titles)) == 22


@pytest.fixture
async def far_time_zone() -> AsyncIterator[None]:
    """The test database's default time zone set far from UTC (Pacific/Chatham: +12:45, or
    +13:45 in its summer), for the connections opened while the test runs."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL's session time zone (CI's PostgreSQL pass)")
    url = make_url(POSTGRES_URL)
    connection = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(False))
    name = str(url.database).replace('"', '""')
    try:
        await connection.execute(f"ALTER DATABASE \"{name}\" SET timezone TO 'Pacific/Chatham'")
        yield
    finally:
        await connection.execute(f'ALTER DATABASE "{name}" RESET timezone')
        await connection.close()


async def test_datetimes_are_utc_whatever_the_servers_time_zone(
    far_time_zone: None, app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    """The compiled path writes timestamps with PostgreSQL's to_json, which uses the
    session's time zone: its connections set UTC themselves."""
    ada = await create_user(db, name="Ada")
    base = utcnow().replace(microsecond=0) - timedelta(days=1)
    for microsecond in (0, 1, 500000):
        when = base.replace(microsecond=microsecond)
        await create_post(db, f"At {microsecond}", authors=[ada], published_at=when)
    queries = app.state.compiled_queries
    before = queries.answered

    data = await graphql_data(client, "{ posts { nodes { publishedAt createdAt updatedAt } } }")

    assert queries.answered == before + 1  # compiled, and verify mode compared the bytes
    published = [node["publishedAt"] for node in data["posts"]["nodes"]]
    stamp = base.isoformat()[:19]
    assert published == [f"{stamp}.500000+00:00", f"{stamp}.000001+00:00", f"{stamp}+00:00"]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the compiled path's connections send, logged by the driver itself (no
    server extension needed: pg_stat_statements is not preloaded on a stock PostgreSQL)."""
    sent: list[str] = []
    if not POSTGRES_URL:
        connect_sqlite = sqlite3.connect

        def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            connection: sqlite3.Connection = connect_sqlite(*args, **kwargs)
            connection.set_trace_callback(sent.append)
            return connection

        monkeypatch.setattr(sqlite3, "connect", traced)
        return sent
    connect = asyncpg.connect

    async def logged(*args: Any, **kwargs: Any) -> asyncpg.Connection:
        connection: asyncpg.Connection = await connect(*args, **kwargs)
        connection.add_query_logger(lambda record: sent.append(record.query))
        return connection

    monkeypatch.setattr(asyncpg, "connect", logged)
    return sent


def _sqlite_own(statement: str) -> bool:
    """What SQLite runs for itself (FTS5 reading its index), or we at connecting."""
    return statement.startswith(("PRAGMA", "--")) or "'main'.'posts_fts" in statement


@pytest.mark.usefixtures("content")
@pytest.mark.parametrize("response_cache", [False, True], ids=["compiled", "cached"])
async def test_one_statement_per_operation(
    settings: Settings, statements: list[str], response_cache: bool
) -> None:
    """Whatever the nesting or the page size, the database sees one statement: the compiled
    one; with the response cache, none (changes are pushed, see test_response_cache.py)."""
    application = create_app(
        settings.model_copy(update={"compiled_queries": "on", "response_cache": response_cache})
    )
    general = StatementCounter()
    event.listen(application.state.db.engine.sync_engine, "before_cursor_execute", general)
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            if response_cache:
                await listening(application, client)
            for document, variables in DOCUMENTS[:7]:
                await graphql_data(client, document, variables)  # plans compiled, pool warm
                await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
                statements.clear()
                general.reset()
                await graphql_data(client, document, variables)
                await asyncio.sleep(0)
                sent = [s for s in statements if s != PING_SQL and not _sqlite_own(s)]
                assert len(sent) == (0 if response_cache else 1), (document, sent)
                assert general.count == 0, general.statements
    finally:
        await close_app(application)


@pytest.mark.usefixtures("content")
async def test_limits_and_enum_members_are_written_in_and_nothing_else(
    client: httpx.AsyncClient, statements: list[str]
) -> None:
    """PostgreSQL keeps one plan per statement only if it knows the LIMIT and the enum members
    it compares with (plans._members_written_in); everything from a request stays a
    parameter, so one prepared statement serves every page of a listing."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL's prepared statements (CI's PostgreSQL pass)")

    async def sent(document: str, variables: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        statements.clear()
        data = await graphql_data(client, document, variables)
        await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
        compiled = [s for s in statements if "'{' ||" in s]  # the statement writing the JSON
        assert len(compiled) == 1
        return compiled[0], data

    homepage, _ = await sent(HOMEPAGE, {})
    assert "LIMIT 16" in homepage
    assert "'post'" in homepage
    assert "'draft'" in homepage
    post, data = await sent("query($s: String!) { post(slug: $s) { title } }", {"s": "about"})
    assert data["post"] is None  # a page, not a post
    assert "about" not in post
    assert "$2" in post  # the clock, and the slug

    listing = "query($after: String) { posts(first: 2, after: $after) { pageInfo { endCursor } } }"
    _, data = await sent(listing, {})
    second, data = await sent(listing, {"after": data["posts"]["pageInfo"]["endCursor"]})
    third, _ = await sent(listing, {"after": data["posts"]["pageInfo"]["endCursor"]})
    assert second == third  # the cursor's values are parameters
    assert "LIMIT 3" in second


@pytest.mark.usefixtures("content")
async def test_a_schedule_coming_due_shows_without_recompiling(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    document = "{ posts(first: 50) { nodes { title status } } }"
    titles = [p["title"] for p in (await graphql_data(client, document))["posts"]["nodes"]]
    assert "Later" not in titles
    # Time passes: the schedule is now in the past. The cached plan reads the clock per request.
    async with db.write_sessions.begin() as session:
        await session.execute(
            update(models.Post)
            .where(models.Post.title == "Later")
            .values(published_at=utcnow() - timedelta(seconds=1))
        )
    nodes = (await graphql_data(client, document))["posts"]["nodes"]
    assert {"title": "Later", "status": "PUBLISHED"} in nodes
    assert app.state.compiled_queries.answered == 2


@pytest.mark.usefixtures("content")
async def test_signed_in_callers_and_other_documents_take_the_general_path(
    app: FastAPI, client: httpx.AsyncClient, as_staff: Any
) -> None:
    queries = app.state.compiled_queries
    _, editor = await as_staff(models.Role.EDITOR)
    data = await graphql_data(client, "{ posts(first: 50) { nodes { title } } }", headers=editor)
    assert "Draft" in [node["title"] for node in data["posts"]["nodes"]]
    for document in (
        "{ __schema { queryType { name } } }",
        "{ viewer { name } }",
        '{ node(id: "UG9zdDox") { id } }',
        "{ posts(first: 2, orderBy: [{field: TITLE, direction: ASC}]) { edges { cursor } } }",
        '{ post(slug: "long-read", previewToken: "nope") { title } }',
    ):
        await graphql(client, document)
    body = await graphql(client, "{ posts(first: 101) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert queries.answered == 0


@pytest.mark.usefixtures("content")
async def test_requests_the_general_path_refuses_are_refused(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    document = '{"query": "{ posts { nodes { title } } }"}'
    untyped = await client.post("/graphql", content=document)
    assert untyped.status_code == 415
    for variables in ("[]", "false", '""'):
        body = '{"query": "{ posts { nodes { title } } }", "variables": ' + variables + "}"
        bad = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert bad.status_code == 400, variables
    repeated = await client.get(
        "/graphql?query=query($n:Int=3){posts(first:$n){nodes{title}}}"
        '&variables={"n":1}&variables={"n":2}'
    )
    assert len(repeated.json()["data"]["posts"]["nodes"]) == 2  # the last one counts
    assert app.state.compiled_queries.answered == 0


@pytest.mark.usefixtures("content")
async def test_over_limit_documents_are_refused_on_either_path(client: httpx.AsyncClient) -> None:
    deep = "{ posts { nodes { authors { posts { nodes { authors { posts { nodes { tags { posts { nodes { title } } } } } } } } } } } }"
    body = await graphql(client, deep)
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


READS = queries(
    SDL,
    # The lists: generated lookups mostly carry a preview token or both id and slug.
    fields=["settings", "posts", "pages", "authors", "tags"],
    custom_scalars=SCALARS,
    allow_x00=False,
)


@pytest.fixture(scope="module")
def compiled_share() -> Iterator[list[int]]:
    """(documents sent, answered by the compiled path) over every generated example, checked
    once they have all run: most generated documents carry page sizes or cursors that are
    errors (answered by Strawberry), but a good share must compile."""
    counts = [0, 0]
    yield counts
    sent, compiled = counts
    assert compiled >= sent // 10, f"only {compiled} of {sent} generated reads compiled"


@pytest.mark.usefixtures("content")
@fuzz(max_examples=150)
@given(document=READS)
async def test_generated_reads_answer_alike_on_both_paths(
    app: FastAPI, client: httpx.AsyncClient, compiled_share: list[int], document: str
) -> None:
    """Documents generated from the schema over the compiled root fields: in verify mode any
    byte of difference between the paths raises; whatever the compiled path declines (an
    error, a preview token, a title-ordered cursor…) is answered by Strawberry alone."""
    before = app.state.compiled_queries.answered
    response = await client.post("/graphql", json={"query": document})
    assert response.status_code == 200
    compiled_share[0] += 1
    compiled_share[1] += app.state.compiled_queries.answered - before


@pytest.mark.usefixtures("content")
@fuzz(max_examples=150)
@given(request=requests(READS))
async def test_generated_requests_with_variables_answer_alike_on_both_paths(
    app: FastAPI, client: httpx.AsyncClient, request: tuple[str, list[Variables]]
) -> None:
    """The same reads with arguments moved into variables (sent, null, or left to their
    defaults), odd strings, forged cursors and fragments spreading fragments: verify mode
    compares what the compiled path answers; nothing may fail on either."""
    document, variants = request
    for variables in variants:
        response = await post_json(client, {"query": document, "variables": variables})
        assert response.status_code < 500, response.text
        assert "INTERNAL_SERVER_ERROR" not in response.text, response.text


CREATE_KEY = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }"


@pytest.mark.usefixtures("content")
async def test_a_content_api_key_reads_through_the_compiled_path(
    app: FastAPI, client: httpx.AsyncClient, as_staff: Any
) -> None:
    """What a site's frontend sends: a CONTENT key reads what anonymous readers read."""
    queries = app.state.compiled_queries
    _, admin = await as_staff(models.Role.ADMINISTRATOR)
    keys = {}
    for scope in ("CONTENT", "ADMIN"):
        made = await graphql_data(
            client, CREATE_KEY, {"input": {"name": scope, "scope": scope}}, headers=admin
        )
        keys[scope] = made["createApiKey"]["secret"]
    document = "{ posts(first: 50) { nodes { title } } }"
    anonymous = await graphql_data(client, document)
    before = queries.answered
    content = await graphql_data(client, document, headers={"X-API-Key": keys["CONTENT"]})
    assert content == anonymous
    assert queries.answered == before + 1
    staff = await graphql_data(client, document, headers={"X-API-Key": keys["ADMIN"]})
    assert "Draft" in [node["title"] for node in staff["posts"]["nodes"]]
    refused = await client.post(
        "/graphql", json={"query": document}, headers={"X-API-Key": "not-a-key"}
    )
    assert refused.status_code == 401
    assert queries.answered == before + 1


@pytest.mark.usefixtures("content")
async def test_long_documents_are_answered_but_never_kept(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Comments and whitespace cost no tokens: a long document must not become a cache key."""
    padded = "# " + "x" * 30_000 + "\n{ posts(first: 2) { nodes { title } } }"
    data = await graphql_data(client, padded)
    assert len(data["posts"]["nodes"]) == 2
    assert app.state.compiled_queries.answered == 0


@pytest.mark.usefixtures("content")
async def test_a_request_refused_for_its_variables_leaves_the_plan_to_others(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A NUL in a slug, or variables over a limit, are this request's fault: the compiled
    path does not give up the document for everyone else."""
    queries = app.state.compiled_queries
    slug_document = SINGLE_POST
    page_document = "query($n: Int) { posts(first: $n) { nodes { title } } }"
    for document, bad, good in (
        (slug_document, {"slug": "long\x00read"}, {"slug": "long-read"}),
        (page_document, {"n": 10**6}, {"n": 2}),
    ):
        refused = await graphql(client, document, bad)
        assert refused["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "QUERY_TOO_COMPLEX")
        before = queries.answered
        await graphql_data(client, document, good)
        assert queries.answered == before + 1, document


@pytest.mark.usefixtures("content")
@pytest.mark.parametrize("settings", [{"compiled_queries": "on"}], indirect=True)
async def test_a_defect_of_the_compiled_path_costs_the_reader_nothing(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside verify mode, an unexpected error in the compiled path is logged and the general
    path answers."""

    async def broken(*_: Any) -> None:
        raise RuntimeError("a defect")

    monkeypatch.setattr(app.state.compiled_queries, "plan", broken)
    data = await graphql_data(client, "{ posts(first: 2) { nodes { title } } }")
    assert len(data["posts"]["nodes"]) == 2


@pytest.mark.usefixtures("content")
async def test_a_content_keys_cache_hit_runs_no_statement(
    settings: Settings, statements: list[str]
) -> None:
    """A frontend sends its CONTENT key with every request: once the key was seen valid, a
    cached answer costs the database nothing, as it does for a request with no key."""
    application = create_app(settings.model_copy(update={"compiled_queries": "on"}))
    secret = "bsk_frontend_key"
    async with application.state.db.write_sessions.begin() as session:
        session.add(
            models.ApiKey(
                name="site", scope=models.ApiKeyScope.CONTENT, key_hash=digest(secret), prefix="bsk"
            )
        )
    general = StatementCounter()
    event.listen(application.state.db.engine.sync_engine, "before_cursor_execute", general)
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await listening(application, client)
            key = {"X-API-Key": secret}
            await graphql_data(client, "{ posts { nodes { title } } }", headers=key)
            await asyncio.sleep(0)
            statements.clear()
            general.reset()
            await graphql_data(client, "{ posts { nodes { title } } }", headers=key)
            await asyncio.sleep(0)
            # (SQLite: but a look at PRAGMA data_version, which reads no table.)
            assert [s for s in statements if s != PING_SQL and not _sqlite_own(s)] == []
            assert general.count == 0, general.statements
    finally:
        await close_app(application)


@pytest.mark.usefixtures("content")
async def test_a_repeated_request_is_worked_out_once(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a request's bytes ask (its document, plan and cache key) is remembered: the same
    bytes again are not parsed or planned again; other bytes are, even for the same query."""
    queries = app.state.compiled_queries
    planned: list[str] = []
    plan = queries.plan

    async def counted(query: str, *args: Any) -> Any:
        planned.append(query)
        return await plan(query, *args)

    monkeypatch.setattr(queries, "plan", counted)
    document = "query Latest($n: Int) { posts(first: $n) { nodes { title } } }"
    first = await graphql_data(client, document, {"n": 2})
    again = await graphql_data(client, document, {"n": 2})
    other = await graphql_data(client, document, {"n": 3})
    assert again == first
    assert len(other["posts"]["nodes"]) == 3
    assert len(planned) == 2  # the first request and the other variables
    answered = queries.answered
    await graphql_data(client, document, {"n": 2})
    assert (len(planned), queries.answered) == (2, answered + 1)  # the compiled path answered


async def test_paging_through_posts_of_the_same_whole_second(
    app: FastAPI, client: httpx.AsyncClient, db: Database
) -> None:
    """Imported and scheduled posts often share a whole-second time: their cursors, bound as
    parameters, must match the stored rows (SQLite compares the text)."""
    writer = await create_user(db, name="Writer")
    second = utcnow().replace(microsecond=0) - timedelta(hours=1)
    for n in range(3):
        await create_post(db, f"Same second {n}", authors=[writer], published_at=second)
    document = DOCUMENTS[7][0]
    seen: list[str] = []
    after = None
    while True:
        data = await graphql_data(client, document, {"first": 1, "after": after})
        seen += [edge["node"]["title"] for edge in data["posts"]["edges"]]
        if not data["posts"]["pageInfo"]["hasNextPage"]:
            break
        after = data["posts"]["pageInfo"]["endCursor"]
    assert sorted(seen) == ["Same second 0", "Same second 1", "Same second 2"]
    assert app.state.compiled_queries.answered >= 3
