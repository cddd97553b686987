"""Property-based fuzzing of the GraphQL API: documents generated from the live schema must
never fail inside the server (5xx, INTERNAL_SERVER_ERROR), leak a trace, SQL or a secret, nor leave
work running once they are answered.

`hypothesis-graphql` builds valid documents from the SDL Broadsheet actually serves, so every new
field and argument is fuzzed as soon as it exists. pytest-asyncio runs each `@given` coroutine on
the test's event loop: the function-scoped fixtures (database, app, client, seeded rows) are made
once per test, not once per example, which keeps a run fast and the pool on one loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import httpx
import hypothesis
import pytest
from fastapi import FastAPI
from graphql import (
    ArgumentNode,
    ConstValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNonNull,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    parse,
    parse_type,
    print_ast,
    value_from_ast_untyped,
)
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

import graphql_schema
from db import models
from db.engine import Database
from graphql_schema.ids import KNOWN_TYPES, to_global_id
from graphql_schema.schema import schema
from service.settings import Settings
from tests.factories import create_post, create_tag, create_user
from tests.helpers import LoopWatch


def fuzz(max_examples: int) -> hypothesis.settings:
    """Derandomized, so CI sends the same documents on every run; no example database, so a run
    writes nothing into the tree. Fixtures are deliberately shared by every example, and the
    explain phase (minutes of re-runs to annotate a failure) is left out; shrinking stays, as a
    small failing document is the useful part of a report."""
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


# Text that only a crash, a debug page, or a careless error message would put in a response.
LEAK_MARKERS = ("Traceback", 'File "', ".py", "SELECT ", "INSERT ")
# Library names are matched without regard to case ("SQLAlchemy", "sqlalchemy.exc").
LIBRARY_MARKERS = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg")

# Ids that resolve (rows 1-6 of a freshly truncated or copied database hold the seeded content),
# ids of the wrong type, numbers out of range for a 32- or 64-bit column, and junk.
GLOBAL_IDS: st.SearchStrategy[str] = st.one_of(
    st.builds(to_global_id, st.sampled_from(sorted(KNOWN_TYPES)), st.integers(1, 6)),
    st.builds(
        to_global_id,
        st.sampled_from([*sorted(KNOWN_TYPES), "Nope", ""]),
        st.one_of(st.integers(-(2**64), 2**64), st.sampled_from([2**31, 2**63, 2**64])),
    ),
    st.text(max_size=24),
)

# DateTime is Broadsheet's only custom scalar: well-formed instants (UTC, another offset, naive),
# the edges of the calendar, an impossible date, and strings that are not dates at all.
DATETIMES: st.SearchStrategy[str] = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-11, minutes=-30))])).map(
        datetime.isoformat
    ),
    st.datetimes().map(datetime.isoformat),
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59+00:00",
            "9999-12-31T23:59:59.999999Z",
            "0001-01-01T00:00:00+01:00",  # year 0 once in UTC
            "9999-12-31T23:59:59-01:00",  # year 10000 once in UTC
            "2024-02-30T00:00:00Z",
        ]
    ),
    st.text(max_size=24),
)

SDL = schema.as_str()
SCALARS = {
    "ID": GLOBAL_IDS.map(nodes.String),
    "DateTime": DATETIMES.map(nodes.String),
    # A file in a document or JSON variables, not a multipart part: refused as input.
    "Upload": st.text(max_size=20).map(nodes.String),
}
QUERIES: st.SearchStrategy[str] = queries(SDL, custom_scalars=SCALARS)
MUTATIONS: st.SearchStrategy[str] = mutations(SDL, custom_scalars=SCALARS)

# Text a careless layer chokes on: NUL (PostgreSQL stores none), a lone surrogate (no UTF-8
# form), bidi controls, a very long run, and SQL and FTS syntax.
ODD_STRINGS: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(
        [
            "a\x00b",
            "\x00",
            "\ud800",
            "caf\u00e9\udfff",
            "\u202eevil\u202c",
            "\u2066x\u2069",
            "x" * 20_000,
            "word " * 4_000,
            "' OR 1=1 --",
            '"unterminated',
            "NEAR(a b) AND -c*",
        ]
    ),
    st.text(max_size=30),
)


def _forged_cursor(values: list[Any]) -> str:
    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# Cursors a client can forge: orderings that exist with values no column holds, wrong types,
# instants with no UTC form, nesting past any recursion limit, and junk.
CURSORS: st.SearchStrategy[str] = st.one_of(
    st.builds(
        lambda key, value, last: _forged_cursor([key, value, last]),
        st.sampled_from(["published_at:d,id:d", "title:a,id:a", "name:a,id:a", "rank:a,id:a"]),
        st.one_of(
            st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "a\x00"]),
            st.integers(-(2**70), 2**70),
            st.booleans(),
            st.none(),
            st.floats(),
            DATETIMES,
        ),
        st.one_of(st.integers(-(2**70), 2**70), st.booleans(), st.none(), st.text(max_size=5)),
    ),
    st.just(base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode()),
    st.text(max_size=20),
)


Variables = dict[str, Any]


@st.composite
def requests(draw: st.DrawFn, documents: st.SearchStrategy[str]) -> tuple[str, list[Variables]]:
    """A generated document as a frontend would send it, with the variables of three requests:
    some arguments are moved into variables (declared with or without a default), then all
    sent; those that may be null sent as null; those that may be left out left out (their
    defaults apply). Among the values: lists of several items, odd strings and forged cursors;
    and the selection may be wrapped in fragments that spread fragments twice. Sent in turn,
    the three requests share a document but not an answer."""
    document = parse(draw(documents))
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    root = schema._schema.get_root_type(operation.operation)
    assert root is not None
    given: Variables = {}
    nullable: set[str] = set()
    optional: set[str] = set()
    definitions: list[VariableDefinitionNode] = []

    def field_arguments(selections: SelectionSetNode, parent: Any) -> SelectionSetNode:
        changed: list[Any] = []
        for selection in selections.selections:
            if isinstance(selection, InlineFragmentNode) and selection.type_condition:
                scope = schema._schema.get_type(selection.type_condition.name.value)
                inner = field_arguments(selection.selection_set, scope)
                changed.append(replace(selection, selection_set=inner))
                continue
            fields = getattr(parent, "fields", {})
            definition = (
                fields.get(selection.name.value) if isinstance(selection, FieldNode) else None
            )
            if not isinstance(selection, FieldNode) or definition is None:
                changed.append(selection)
                continue
            arguments = []
            for argument in selection.arguments or ():
                declared = definition.args.get(argument.name.value)
                if declared is None or not draw(st.booleans()):
                    arguments.append(argument)
                else:
                    arguments.append(move_to_variable(argument, declared.type))
            nested = selection.selection_set
            if nested is not None:
                nested = field_arguments(nested, get_named_type(definition.type))
            changed.append(replace(selection, arguments=tuple(arguments), selection_set=nested))
        return replace(selections, selections=tuple(changed))

    def move_to_variable(argument: ArgumentNode, type_: Any) -> ArgumentNode:
        name = f"v{len(definitions)}"
        literal = argument.value
        # hypothesis-graphql writes every argument as a literal, never a variable.
        default = cast(ConstValueNode, literal) if draw(st.booleans()) else None
        definitions.append(
            VariableDefinitionNode(
                variable=VariableNode(name=NameNode(value=name)),
                type=parse_type(str(type_)),
                default_value=default,
                directives=(),
            )
        )
        value = value_from_ast_untyped(literal)
        if argument.name.value in ("after", "before"):
            value = draw(st.one_of(st.just(value), CURSORS))
        elif isinstance(value, str) and draw(st.booleans()):
            value = draw(ODD_STRINGS)
        elif draw(st.booleans()):
            value = _widened(value)
        given[name] = value
        if not isinstance(type_, GraphQLNonNull):
            nullable.add(name)
        if default is not None or not isinstance(type_, GraphQLNonNull):
            optional.add(name)
        return ArgumentNode(name=argument.name, value=VariableNode(name=NameNode(value=name)))

    selection_set = field_arguments(operation.selection_set, root)
    levels = draw(st.integers(0, 3))
    fragments = []
    if levels:
        type_name = root.name
        inner = selection_set
        selection_set = _spreads("F0", 1)
        for level in range(levels):
            body = _spreads(f"F{level + 1}", 2) if level + 1 < levels else inner
            fragments.append(
                FragmentDefinitionNode(
                    name=NameNode(value=f"F{level}"),
                    type_condition=NamedTypeNode(name=NameNode(value=type_name)),
                    selection_set=body,
                    directives=(),
                    variable_definitions=None,
                )
            )
    operation = replace(
        operation, selection_set=selection_set, variable_definitions=tuple(definitions)
    )
    text = print_ast(DocumentNode(definitions=(operation, *fragments)))
    nulls = {name: None if name in nullable else value for name, value in given.items()}
    left_out = {name: value for name, value in given.items() if name not in optional}
    return text, [given, nulls, left_out]


def _widened(value: Any) -> Any:
    """`value` with every list of one item made two (`in: ["a"]` → `in: ["a", "a"]`): the
    generator favours short lists, and lists of several items take other code paths."""
    if isinstance(value, list):
        items = [_widened(item) for item in value]
        return items * 2 if len(items) == 1 else items
    if isinstance(value, dict):
        return {key: _widened(item) for key, item in value.items()}
    return value


def _spreads(name: str, times: int) -> SelectionSetNode:
    spread = FragmentSpreadNode(name=NameNode(value=name), directives=())
    return SelectionSetNode(selections=(spread,) * times)


# The longest the event loop went unanswered while each generated request was served.
STALLS: list[float] = []
# Target 50-100 ms; the assertion leaves room for a loaded two-core machine.
MAX_STALL_SECONDS = 0.25


@pytest.fixture(scope="module", autouse=True)
def worst_stall() -> Iterator[None]:
    """Checked once every example of the module has run, and printed with -s."""
    yield
    if STALLS:
        worst = max(STALLS)
        print(f"\nworst event-loop stall over {len(STALLS)} fuzzed requests: {worst * 1000:.0f} ms")
        assert worst < MAX_STALL_SECONDS


@pytest.fixture(autouse=True)
def _heap(frozen_heap: None) -> None:
    """As in a running server, start-up objects are out of the collector's sight."""


@pytest.fixture
async def seeded(db: Database) -> None:
    """A little of everything, so resolvers walk real rows: public and internal tags, published,
    draft and scheduled posts, a page, and authors with and without visible posts."""
    writer = await create_user(db, name="Fuzz Writer", role=models.Role.AUTHOR)
    drafter = await create_user(db, name="Fuzz Drafter", role=models.Role.CONTRIBUTOR)
    news = await create_tag(db, "News")
    internal = await create_tag(db, "#internal")
    await create_post(db, "Published post", authors=[writer], tags=[news, internal], featured=True)
    await create_post(db, "A draft", authors=[drafter], status=models.PostStatus.DRAFT)
    await create_post(
        db,
        "Scheduled post",
        authors=[writer, drafter],
        tags=[news],
        status=models.PostStatus.SCHEDULED,
        published_at=datetime.now(UTC) + timedelta(days=1),
    )
    await create_post(db, "About", authors=[writer], type=models.PostType.PAGE)


@pytest.fixture
async def editor_headers(as_staff: Any, seeded: None) -> dict[str, str]:
    headers: dict[str, str]
    _, headers = await as_staff(models.Role.EDITOR, "Fuzz Editor")
    return headers


# Broadsheet's own packages. When graphql-core cancels sibling resolvers (a non-null field
# failed), libraries may finish their part just after the answer: SQLAlchemy closes the cancelled
# sessions in shielded tasks, a DataLoader runs a batch its callers no longer wait for. Only the
# app's own coroutines still running then are a defect.
ROOT = Path(graphql_schema.__file__ or "").parent.parent
APP_CODE = tuple(
    f"{ROOT / package}{os.sep}" for package in ("db", "graphql_schema", "rest", "service")
)


def _qualname(task: asyncio.Task[Any]) -> str:
    return str(getattr(task.get_coro(), "__qualname__", ""))


def _runs_app_code(task: asyncio.Task[Any]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and code.co_filename.startswith(APP_CODE)


def _strings(value: Any) -> Iterator[str]:
    """Every string in a decoded JSON body, keys included: where a leak would show."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@pytest.fixture(autouse=True)
def _quiet_routine_logs(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    """A run sends thousands of requests: an access line for each, and Strawberry's traceback for
    every client mistake, would bury a failure's report. Set after the app is made, since making
    it configures logging. The app's own log of unexpected errors (the exception behind an
    INTERNAL_SERVER_ERROR) is kept."""
    caplog.set_level(logging.WARNING, logger="broadsheet.access")
    caplog.set_level(logging.CRITICAL, logger="strawberry.execution")


async def post_json(
    client: httpx.AsyncClient, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST `body` as JavaScript's JSON.stringify writes it: a lone surrogate as an escape
    (httpx's own encoder writes UTF-8, which has no lone surrogates)."""
    return await client.post(
        "/graphql",
        content=json.dumps(body),
        headers={"content-type": "application/json", **(headers or {})},
    )


@dataclass
class Findings:
    """What went wrong with one request, by kind."""

    lingering: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    response: str = ""

    def report(self, problems: list[str], document: str) -> str:
        # Hypothesis does not show the drawn value of a test that uses fixtures: say it here.
        return "\n".join([*problems, "", f"Response: {self.response}", "", "Document:", document])


async def _check(
    client: httpx.AsyncClient,
    document: str,
    settings: Settings,
    headers: dict[str, str] | None,
    variables: dict[str, Any] | None = None,
) -> None:
    """Send `document` as a frontend would and assert the server handled it."""
    found = await _findings(client, document, settings, headers, variables)
    sent = f"{document}\nVariables: {variables!r}" if variables else document
    # One assertion per kind: Hypothesis tells bugs apart by where they are raised, so each kind
    # is shrunk and reported on its own instead of the first hiding the others.
    assert not found.lingering, found.report(found.lingering, sent)
    assert not found.server_errors, found.report(found.server_errors, sent)
    assert not found.leaks, found.report(found.leaks, sent)


async def _findings(
    client: httpx.AsyncClient,
    document: str,
    settings: Settings,
    headers: dict[str, str] | None,
    variables: dict[str, Any] | None,
) -> Findings:
    found = Findings()
    started_before = asyncio.all_tasks()
    body: Any = {"query": document, **({"variables": variables} if variables else {})}
    answered = asyncio.Event()
    watch = LoopWatch()
    watcher = asyncio.create_task(watch.run(answered))
    await asyncio.sleep(0)  # the watcher is running before the request starts
    response = await post_json(client, body, headers)
    answered.set()
    await watcher
    STALLS.append(watch.worst)
    found.response = f"HTTP {response.status_code} {response.text[:2000]}"
    # Work a request starts must end with it. A resolver that leaves tasks running after the
    # answer keeps connections busy for a client that has gone, and crashes when the loop closes.
    lingering = [
        task
        for task in asyncio.all_tasks() - started_before
        if not task.done() and _runs_app_code(task)
    ]
    if lingering:
        names = sorted({_qualname(task) for task in lingering})
        found.lingering.append(f"{len(lingering)} tasks still running after the response: {names}")

    if response.status_code >= 500:
        found.server_errors.append(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:  # Not JSON (a plain-text 4xx, say): check its text as it is.
        body = response.text
    errors = (body.get("errors") if isinstance(body, dict) else None) or []
    found.server_errors += [
        f"INTERNAL_SERVER_ERROR at {error.get('path')}"
        for error in errors
        if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]

    sent = f"{document}{variables!r}"
    # A marker the document itself contains may be echoed back legitimately (a slug that was
    # asked for, an invalid id quoted in its error), so only markers the caller did not send count.
    text = "\n".join(_strings(body))
    secret = settings.resolved_secret_key()
    found.leaks += [
        f"the response shows {marker!r}"
        for marker in LEAK_MARKERS
        if marker in text and marker not in sent
    ]
    found.leaks += [
        f"the response names {marker!r}"
        for marker in LIBRARY_MARKERS
        if marker in text.lower() and marker not in sent.lower()
    ]
    if secret in text and secret not in sent:
        found.leaks.append("the response shows the secret key")
    return found


@pytest.mark.usefixtures("seeded")
@fuzz(max_examples=200)
@given(document=QUERIES)
async def test_anonymous_queries_never_fail_or_leak(
    client: httpx.AsyncClient, settings: Settings, document: str
) -> None:
    await _check(client, document, settings, headers=None)


@fuzz(max_examples=200)
@given(document=QUERIES)
async def test_staff_queries_never_fail_or_leak(
    client: httpx.AsyncClient, settings: Settings, editor_headers: dict[str, str], document: str
) -> None:
    await _check(client, document, settings, headers=editor_headers)


@fuzz(max_examples=100)
@given(document=MUTATIONS)
async def test_staff_mutations_never_fail_or_leak(
    client: httpx.AsyncClient, settings: Settings, editor_headers: dict[str, str], document: str
) -> None:
    """Writes as an editor (the examples share one database, so later ones see what earlier ones
    made). Only the server's own failures count here, not what the editor may or may not do."""
    await _check(client, document, settings, headers=editor_headers)


@pytest.mark.usefixtures("seeded")
@fuzz(max_examples=150)
@given(request=requests(QUERIES))
async def test_anonymous_requests_with_variables_never_fail_or_leak(
    client: httpx.AsyncClient, settings: Settings, request: tuple[str, list[Variables]]
) -> None:
    """Variables sent, sent as null and left out (defaults), odd strings, forged cursors,
    fragments spreading fragments: the compiled path's plan and response caches in play."""
    document, variants = request
    for variables in variants:
        await _check(client, document, settings, headers=None, variables=variables)


@fuzz(max_examples=100)
@given(request=requests(QUERIES))
async def test_staff_requests_with_variables_never_fail_or_leak(
    client: httpx.AsyncClient,
    settings: Settings,
    editor_headers: dict[str, str],
    request: tuple[str, list[Variables]],
) -> None:
    document, variants = request
    for variables in variants:
        await _check(client, document, settings, headers=editor_headers, variables=variables)


@fuzz(max_examples=100)
@given(request=requests(MUTATIONS))
async def test_staff_mutations_with_variables_never_fail_or_leak(
    client: httpx.AsyncClient,
    settings: Settings,
    editor_headers: dict[str, str],
    request: tuple[str, list[Variables]],
) -> None:
    document, variants = request
    for variables in variants:
        await _check(client, document, settings, headers=editor_headers, variables=variables)
