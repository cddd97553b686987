"""Plans for documents seen before: parsed, validated and limit-checked once, compiled into
one SQL statement per distinct value of the variables that shape it, then run with the
request's clock and slugs as parameters."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import FragmentDetails
from graphql.execution.values import get_variable_values
from sqlalchemy import Enum, Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from db.base import utcnow
from db.engine import Database
from graphql_schema.answer_tags import lookup_tags
from graphql_schema.compiled.planner import (
    LOOKUP_FIELDS,
    NOW,
    NotCompilable,
    Operation,
    Planner,
    slug_parameter,
)
from graphql_schema.compiled.reads import DATABASE_ERRORS, Reads
from graphql_schema.documents import Checked, cacheable
from graphql_schema.schema import BroadsheetSchema
from service.offload import off_the_loop

log = logging.getLogger(__name__)


class DatabaseTimeout(Exception):
    """The statement outlived BROADSHEET_DATABASE_TIMEOUT_SECONDS."""


@dataclass(frozen=True)
class Plan:
    sql: str
    # One per positional parameter: the name of a value given per request (the clock, a
    # slug), or None and the constant's value as bound.
    arguments: tuple[tuple[str | None, Any], ...]
    # Each per-request value's conversion to its bound form (SQLite's text of a datetime).
    conversions: Mapping[str, Callable[[Any], Any]]
    keys: tuple[str, ...]  # every root response key, in order
    declared: frozenset[str]  # the operation's variables: all an answer can depend on
    lookups: tuple[str, ...]  # the type each root lookup finds, as the statement's columns
    tags: frozenset[str]  # the cache tags the document decides (answer_tags)

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        # Each value converted once, however often the statement uses it (the clock: five
        # times in a single post's, about 6 µs a conversion on SQLite).
        bound = {name: convert(values[name]) for name, convert in self.conversions.items()}
        return [value if name is None else bound[name] for name, value in self.arguments]


@dataclass(frozen=True)
class Answer:
    body: bytes
    version: int | None  # the content version the answer was read at
    tags: tuple[str, ...]  # what it depends on (answer_tags)


class CompiledQueries:
    """The compiled path's caches. Everything here derives from documents and the schema, so
    workers need not share it."""

    def __init__(
        self,
        schema: BroadsheetSchema,
        db: Database,
        pool: Reads,
        *,
        max_documents: int = 250,
        max_plans: int = 1000,
    ) -> None:
        self.schema = schema
        self.db = db
        # Bounded both: clients choose documents and variables, and a plan holds its SQL.
        # None marks what the general path answers.
        self._operations: LRUCache[tuple[str, str | None], Operation | None] = LRUCache(
            max_documents
        )
        self._plans: LRUCache[tuple[str, str | None, bytes], Plan | None] = LRUCache(max_plans)
        self.pool = pool
        self.answered = 0  # requests this path answered (tests and the benchmark read it)

    async def plan(
        self, query: str, operation_name: str | None, variables: Mapping[str, Any]
    ) -> Plan | None:
        """The plan for this request, or None when the general path must answer it."""
        if not cacheable(query):
            return None  # too long to keep as a cache key; the general path parses it afresh
        key = (query, operation_name)
        checked: Checked | None = None
        if key in self._operations:
            operation = self._operations[key]
        else:
            checked = await self._check(query, operation_name, variables)
            if checked.for_these_variables:
                return None  # refused for these variables only (and perhaps not validated)
            operation = self._operations[key] = _operation(checked)
        if operation is None:
            return None
        for name in operation.parameters:
            value = variables.get(name)
            if not isinstance(value, str) or "\x00" in value:
                return None  # missing, mistyped or unstorable: the general path reports it
        # Declared variables only: undeclared ones change nothing and must not cost a compile.
        shaping = variables_key(operation.declared - operation.parameters, variables)
        if shaping is None:
            return None
        plan_key = (query, operation_name, shaping)
        if plan_key in self._plans:
            return self._plans[plan_key]
        # The limits depend on these variables (page sizes): over one, the general path says so.
        if checked is None:
            checked = await self._check(query, operation_name, variables)
        if not checked.runnable:
            return None  # not kept: the fault may lie in a slug, which the key leaves out
        plan = self._plans[plan_key] = await off_the_loop(self._compile, operation, variables)
        return plan

    async def _check(
        self, query: str, operation_name: str | None, variables: Mapping[str, Any]
    ) -> Checked:
        return await self.schema.documents.check(
            query, operation_name=operation_name, variables=variables
        )

    def _compile(self, operation: Operation, raw_variables: Mapping[str, Any]) -> Plan | None:
        coerced = get_variable_values(
            self.schema._schema, operation.operation.variable_definitions or (), dict(raw_variables)
        )
        if isinstance(coerced, list):
            return None
        # A session that never connects: the repositories only read its dialect.
        session = AsyncSession(bind=self.db.engine)
        planner = Planner(self.schema, operation, coerced, session)
        try:
            statement = planner.compile()
        except (NotCompilable, GraphQLError):
            return None  # GraphQLError: an argument the general path will report as bad
        dialect = self.db.engine.dialect
        per_request = {NOW} | {slug_parameter(name) for name in operation.parameters}
        statement = _members_written_in(statement, keep=per_request)
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        constants = compiled.params
        arguments: list[tuple[str | None, Any]] = []
        conversions: dict[str, Callable[[Any], Any]] = {}
        for bind_name in compiled.positiontup or ():
            # An IN list's items are rendered as `<name>_<n>`, typed as the list's parameter.
            bind = compiled.binds.get(bind_name)
            if bind is None:
                bind = compiled.binds[bind_name.rsplit("_", 1)[0]]
            # The dialect's own conversion too: SQLite stores datetimes as text of one format,
            # compared as text (a whole second without its ".000000" matches nothing).
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect) or _same
            if bind_name in per_request:
                arguments.append((bind_name, None))
                conversions[bind_name] = processor
            else:
                arguments.append((None, processor(constants[bind_name])))
        roots = [
            field
            for field in operation.operation.selection_set.selections
            if isinstance(field, FieldNode)
        ]
        keys = tuple(dict.fromkeys((field.alias or field.name).value for field in roots))
        return Plan(
            sql=str(compiled),
            arguments=tuple(arguments),
            conversions=conversions,
            keys=keys,
            declared=operation.declared,
            lookups=tuple(type_name for type_name, _ in planner.lookups),
            tags=operation.tags,
        )

    async def execute(self, plan: Plan, variables: Mapping[str, Any]) -> Answer | None:
        """The answer, or None when the general path must answer after all (it also answers
        when the database fails here: it reconnects and reports errors its way)."""
        values = {NOW: utcnow(), **{slug_parameter(k): v for k, v in variables.items()}}
        try:
            row = await self.pool.fetchrow(plan.sql, *plan.bind(values))
        except TimeoutError as error:
            # A database that does not answer would make the general path wait as long again.
            raise DatabaseTimeout from error
        except DATABASE_ERRORS:
            log.warning("compiled path: database error; the general path answers", exc_info=True)
            return None
        assert row is not None  # the statement's root reads no table: one row, always
        text, version, *found = row
        if text is None:
            return None  # a non-null root field came back null
        found_tags = [
            tag
            for type_name, id in zip(plan.lookups, found, strict=True)
            for tag in lookup_tags(type_name, id)
        ]
        return Answer(
            # PostgreSQL wrote the data object exactly as the general path's encoder would.
            body=b'{"data":' + text.encode() + b"}",
            version=version,
            tags=tuple(sorted(plan.tags.union(found_tags))),
        )


def variables_key(names: frozenset[str], variables: Mapping[str, Any]) -> bytes | None:
    """The values of `names` in `variables`, as a cache key; None for values too deeply
    nested to be one (which the general path refuses). A variable sent as null is not a
    variable left out: only a missing one takes its declared default."""
    given = {name: variables[name] for name in names if name in variables}
    try:
        return orjson.dumps(given, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def _operation(checked: Checked) -> Operation | None:
    """What the planner needs of a valid query operation; None for anything else."""
    operation, document = checked.operation, checked.document
    if not checked.runnable or operation is None or document is None:
        return None
    if operation.operation is not OperationType.QUERY:
        return None
    if _directives(document) - {"skip", "include"}:
        return None  # @defer, @stream or any other: the general path knows what they mean
    fragments = {
        d.name.value: FragmentDetails(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    declared = frozenset(d.variable.name.value for d in operation.variable_definitions or ())
    return Operation(
        operation,
        fragments,
        _slug_parameters(document, operation),
        declared,
        tags=checked.tags,
    )


def _directives(document: DocumentNode) -> set[str]:
    """The names of the directives used anywhere in the document."""
    names: set[str] = set()

    class Collect(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            names.add(node.name.value)

    visit(document, Collect())
    return names


def _same(value: Any) -> Any:
    return value


def _slug_parameters(document: DocumentNode, operation: OperationDefinitionNode) -> frozenset[str]:
    """Variables used only as the `slug:` of a root lookup and declared `String!`: these vary
    per request (a post per slug) without changing the statement, so they are parameters."""
    declared = {
        d.variable.name.value: d.type
        for d in operation.variable_definitions or ()
        if isinstance(d.type, NonNullTypeNode)
        and isinstance(d.type.type, NamedTypeNode)
        and d.type.type.name.value == "String"
    }
    uses: dict[str, int] = {}
    slug_uses: dict[str, int] = {}

    class Uses(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            for argument in node.arguments or ():
                value = argument.value
                if (
                    isinstance(value, VariableNode)
                    and argument.name.value == "slug"
                    and node.name.value in LOOKUP_FIELDS
                ):
                    slug_uses[value.name.value] = slug_uses.get(value.name.value, 0) + 1

        def enter_variable(self, node: VariableNode, key: Any, parent: Any, *_: Any) -> None:
            if key != "variable":  # not the declaration itself
                uses[node.name.value] = uses.get(node.name.value, 0) + 1

    visit(document, Uses())
    return frozenset(
        name for name in declared if uses.get(name, 0) and uses.get(name) == slug_uses.get(name)
    )


def _members_written_in(statement: Select[Any], *, keep: set[str]) -> Select[Any]:
    """The statement with the enum members it compares columns with (a post's type and
    status, a tag's visibility) written into its text. PostgreSQL plans a prepared statement
    without its parameters' values: not knowing that `type` is 'post' (nor the LIMIT, which
    the planner writes in: `sql_integer`), its one plan for the homepage sorted the whole
    table (17 ms), so it planned the statement anew at every run. Enum members come from our
    code, never from a request's text; everything else stays a parameter (the clock, text,
    ids, cursors), so one prepared statement serves every page of a listing."""

    def written_in(element: Any, **kw: Any) -> Any:
        if (
            isinstance(element, BindParameter)
            and element.key not in keep
            and isinstance(element.type, Enum)
            and isinstance(element.value, enum.Enum)
        ):
            member = element._clone()
            member.literal_execute = True  # rendered by the Enum type's literal processor
            return member
        return None

    written = replacement_traverse(statement, {}, written_in)
    assert isinstance(written, Select)
    return written
