"""GraphQL documents: each distinct one parsed, checked against the query limits and
validated once per process, and never on the event loop.

Parsing is linear in a document's size but validation is quadratic at worst (400 fields of
one name take over half a second), and the event loop is what answers every other request,
health checks included. So a document not seen before is prepared in a worker thread
(service/offload.py); a document seen before costs one cache lookup plus the limit
measure, which depends on the variables and is linear.

Both read paths use this: Strawberry through `DocumentChecks`, the compiled path directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    NameNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from graphql_schema import answer_tags
from graphql_schema.limits import QueryLimitSettings, measure, token_limit_error, violations
from service.offload import DOCUMENTS, LONG_DOCUMENTS, off_the_loop

log = logging.getLogger(__name__)
INTERNAL = "INTERNAL_SERVER_ERROR"

# Documents kept per process: a site's frontends send a few dozen.
CACHE_SIZE = 250
# Longer documents are prepared afresh each time: a cache of a thousand one-megabyte bodies
# (whitespace and comments cost no tokens) would be a gigabyte.
CACHEABLE_DOCUMENT_CHARS = 20_000


def cacheable(query: str | None) -> bool:
    """Whether a document is short enough to keep (parsed, validated, planned) by its text."""
    return query is not None and len(query) <= CACHEABLE_DOCUMENT_CHARS


@dataclass
class _Parsed:
    document: DocumentNode | None  # None when it does not parse
    error: GraphQLError | None = None  # why it does not parse
    validation: list[GraphQLError] | None = None  # None until validated
    # Each operation's cache tags (answer_tags), worked out once with the validation.
    tags: dict[str | None, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Checked:
    """A document as one request would run it."""

    document: DocumentNode | None  # None when it does not parse
    operation: OperationDefinitionNode | None  # None when no single operation is chosen
    errors: list[GraphQLError]  # this request's own error objects, each with its code
    # The errors come from this request's variables (a limit, a NUL), not from the document:
    # the same document may run with others. (Refused by a limit, it is not yet validated.)
    for_these_variables: bool = False
    tags: frozenset[str] = frozenset()  # what its answers depend on (answer_tags)

    @property
    def runnable(self) -> bool:
        return not self.errors


class Documents:
    def __init__(
        self, schema: GraphQLSchema, *, limits: QueryLimitSettings, introspection: bool = True
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.rules: tuple[type[ASTValidationRule], ...] = (
            *specified_rules,
            # Strawberry's own rules, which its validation step would add.
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            NoNulCharacters,
            *(() if introspection else (NoSchemaIntrospectionCustomRule,)),
        )
        self._parsed: LRUCache[str, _Parsed] = LRUCache(CACHE_SIZE)
        self._lock = threading.Lock()  # the cache is shared with the worker threads

    async def check(
        self, query: str, *, operation_name: str | None, variables: Mapping[str, Any] | None
    ) -> Checked:
        """Parse, choose the operation, check the limits, validate: on the loop only when
        every costly step was done before for this document."""
        parsed = self._cached(query)
        if parsed is not None and (parsed.document is None or parsed.validation is not None):
            return self._check(query, parsed, operation_name, variables)
        lane = DOCUMENTS if cacheable(query) else LONG_DOCUMENTS
        return await off_the_loop(self._check, query, parsed, operation_name, variables, lane=lane)

    def _cached(self, query: str) -> _Parsed | None:
        with self._lock:
            return self._parsed.get(query)

    def _check(
        self,
        query: str,
        parsed: _Parsed | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> Checked:
        if parsed is None:
            parsed = self._parse(query)
            if cacheable(query):
                with self._lock:
                    self._parsed[query] = parsed
        document = parsed.document
        if document is None:
            assert parsed.error is not None
            return Checked(None, None, [_fresh(parsed.error, "GRAPHQL_PARSE_FAILED")])
        operation = operation_named(document, operation_name)
        if isinstance(operation, GraphQLError):
            # A malformed request rather than a bad document: 400 in either media type.
            return Checked(document, None, [_fresh(operation, "BAD_REQUEST")])
        measured = measure(self.schema, document, operation, variables=variables)
        refused = violations(measured, self.limits)
        if refused:
            return Checked(document, operation, refused, for_these_variables=True)
        if parsed.validation is None:
            parsed.validation = [
                _without_traceback(e) for e in validate(self.schema, document, self.rules)
            ]
        if parsed.validation:
            errors = [_fresh(e, "GRAPHQL_VALIDATION_FAILED") for e in parsed.validation]
            return Checked(document, operation, errors)
        # Last: in a valid document every variable is used in an argument, whose size the
        # limits have bounded, so this look is short.
        unreadable = _variable_with_nul(operation, variables)
        if unreadable is not None:
            error = _nul_error(f"Variable '${unreadable}'")
            return Checked(document, operation, [error], for_these_variables=True)
        name = operation.name.value if operation.name else None
        tags = parsed.tags.get(name)
        if tags is None:
            tags = parsed.tags[name] = answer_tags.of_operation(self.schema, document, operation)
        return Checked(document, operation, [], tags=tags)

    def _parse(self, query: str) -> _Parsed:
        try:
            return _Parsed(_without_tokens(parse(query, max_tokens=self.limits.max_tokens)))
        except GraphQLError as error:
            if "tokens. Parsing aborted" in error.message:
                return _Parsed(None, token_limit_error(self.limits, error))
            return _Parsed(None, _without_traceback(error))


def _without_tokens(document: DocumentNode) -> DocumentNode:
    """The document with its nodes' locations cut loose from the parser's tokens.

    Each location keeps the first and last token of its node, and the tokens are a doubly
    linked list of the whole document: kept, they are a third of a cached document's objects
    and tie it into reference cycles. The cache holds hundreds of documents, and a full pass
    of the garbage collector, which holds the event loop, visits every object they hold
    (1,000 fuzzed documents of about 1 kB: 0.5 s a pass). Errors need only a location's
    offsets and source, which stay."""
    stack: list[Any] = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, Node):
            if item.loc is not None:
                item.loc.start_token = item.loc.end_token = None  # type: ignore[assignment]
            stack.extend(getattr(item, key) for key in item.keys if key != "loc")
        elif isinstance(item, tuple | list):
            stack.extend(item)
    return document


def _without_traceback(error: GraphQLError) -> GraphQLError:
    """The error as the cache keeps it: without the tracebacks of it and of the errors behind
    it. Their frames hold the parser, or the whole validation (its visitors, type info and
    document), a few hundred objects for as long as the document stays cached. An error it
    wraps that is no GraphQL error (a scalar's bug) keeps its own: that one is logged, whole,
    each time it is reported (graphql_schema.schema.ErrorPolicy)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        item.__traceback__ = None
        stack += [item.__cause__, item.__context__]
        original = getattr(item, "original_error", None)
        if isinstance(original, GraphQLError):
            stack.append(original)
    return error


def operation_named(
    document: DocumentNode, operation_name: object
) -> OperationDefinitionNode | GraphQLError:
    """The operation a request runs, or the request error the GraphQL spec calls for when the
    name is missing from a document of several operations, or names none of them."""
    if operation_name is not None and not isinstance(operation_name, str):
        return GraphQLError("`operationName` must be a string.")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            return GraphQLError("The document holds no operation to run.")
        return GraphQLError(
            "Must provide operation name if query contains multiple operations "
            "(send `operationName`)."
        )
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation
    return GraphQLError(f"Unknown operation named '{operation_name[:100]}'.")


def _nul_error(where: str, node: Node | None = None) -> GraphQLError:
    return GraphQLError(
        f"{where} holds a NUL character (U+0000), which no text in Broadsheet may contain.",
        node,
        extensions={"code": "BAD_USER_INPUT"},
    )


def _variable_with_nul(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> str | None:
    """The first declared variable whose value holds a NUL character anywhere, if any:
    PostgreSQL stores no such text, and no title, slug or search needs one. (Undeclared
    variables are never read.)"""
    declared = {d.variable.name.value for d in operation.variable_definitions or ()}
    for name, value in (variables or {}).items():
        if name not in declared:
            continue
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if "\x00" in item:
                    return name
            elif isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None


class NoNulCharacters(ValidationRule):
    """String literals in the document hold no NUL character (as variables may not)."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.report_error(_nul_error("A string", node))


def _fresh(error: GraphQLError, code: str) -> GraphQLError:
    """A copy of a cached error for one request (error handling changes errors in place),
    with `code` unless it has one."""
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        original_error=error.original_error,
        extensions={"code": code, **(error.extensions or {})},
    )


def is_stand_in(document: DocumentNode) -> bool:
    """Whether `document` stands in for one that did not parse or picks no operation: every
    document parsed from a request knows its place in the source."""
    return document.loc is None


def _stand_in(operation_name: object) -> DocumentNode:
    """A document Strawberry can take past its operation-type check to the validation step,
    where `DocumentChecks` reports why the request's own document cannot run. Its operation
    bears the name the request gave, whatever its type, as Strawberry looks it up by that;
    the node is compared, never printed."""
    operation = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=NameNode(value=operation_name) if operation_name is not None else None,  # type: ignore[arg-type]
        variable_definitions=(),
        directives=(),
        selection_set=SelectionSetNode(selections=(FieldNode(name=NameNode(value="__typename")),)),
    )
    return DocumentNode(definitions=(operation,))


class DocumentChecks(SchemaExtension):
    """Strawberry's parse and validation steps, done by `Documents`: limits, codes
    (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, QUERY_TOO_COMPLEX, and BAD_REQUEST
    when the operation name picks no single operation) and caching included."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self.errors: list[GraphQLError] | None = None  # None: the check did not run

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # Before a document is set, this is the name the request gave, if any.
            operation_name = context.operation_name
            try:
                checked = await self.documents.check(
                    context.query, operation_name=operation_name, variables=context.variables
                )
            except Exception:
                # Raised here, an error would skip the error policy: its text would reach
                # the client, uncoded.
                log.exception("checking a document failed")
                internal = GraphQLError("Internal error.", extensions={"code": INTERNAL})
                checked = Checked(None, None, [internal])
            self.errors = checked.errors
            if checked.runnable:
                answer_tags.note_operation(checked.tags)
            if checked.operation is None:
                context.graphql_document = _stand_in(operation_name)
            else:
                context.graphql_document = checked.document
        yield

    def on_validate(self) -> Iterator[None]:
        if self.errors is not None:
            # Validated already (or refused): Strawberry's own validation step is skipped.
            self.execution_context.pre_execution_errors = self.errors
        yield
