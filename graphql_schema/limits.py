"""Limits against abusive queries, checked after parsing and before validation or any
resolver: depth, aliases, root fields and cost (potential nodes, multiplying the page sizes
of nested connections), plus the token limit the parser enforces."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from db.repositories.pagination import DEFAULT_PAGE_SIZE

CODE = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class QueryLimitSettings:
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 15_000
    max_root_fields: int = 20
    max_cost: int = 50_000


@dataclass
class Measurement:
    depth: int = 0
    aliases: int = 0
    root_fields: int = 0
    cost: int = 0


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    defaults: Mapping[str, Any]
    result: Measurement = field(default_factory=Measurement)

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                variable = value.name.value
                return self.variables.get(variable, self.defaults.get(variable))
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, ListValueNode):
                return value.values
        return None

    def page_size(self, node: FieldNode) -> int:
        for name in ("first", "last"):
            value = self.argument(node, name)
            if isinstance(value, int) and value >= 0:
                return value
        ids = self.argument(node, "ids")
        if isinstance(ids, list | tuple):
            return len(ids)
        return DEFAULT_PAGE_SIZE

    def fields(
        self, selections: SelectionSetNode, parent: GraphQLNamedType | None, seen: frozenset[str]
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType | None, frozenset[str]]]:
        """The fields of a selection set, with fragments expanded (each at most once per path,
        so cyclic fragments, which validation rejects, cannot make this loop)."""
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent, seen
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                yield from self.fields(selection.selection_set, scope, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    scope = self.schema.get_type(fragment.type_condition.name.value)
                    yield from self.fields(fragment.selection_set, scope, seen | {name})

    def walk(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType | None,
        *,
        depth: int,
        multiplier: int,
        seen: frozenset[str] = frozenset(),
    ) -> None:
        for node, scope, path in self.fields(selections, parent, seen):
            name = node.name.value
            if name.startswith("__"):
                continue  # introspection (GraphiQL's own query is deep) is not content
            if node.alias is not None:
                self.result.aliases += 1
            if depth == 0:
                self.result.root_fields += 1
            self.result.depth = max(self.result.depth, depth + 1)
            if node.selection_set is None:
                continue
            definition = getattr(scope, "fields", {}).get(name)
            child = get_named_type(definition.type) if definition is not None else None
            # A connection (or the root `nodes(ids:)`) multiplies what is under it.
            paged = (child is not None and child.name.endswith("Connection")) or (
                name == "nodes" and depth == 0
            )
            inner = multiplier * max(self.page_size(node), 1) if paged else multiplier
            self.result.cost += inner
            self.walk(node.selection_set, child, depth=depth + 1, multiplier=inner, seen=path)


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Measurement | None:
    """Measure the operation that would run; None when there is none to pick (validation
    reports that)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    operation = operations[0]
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defaults = {
        v.variable.name.value: int(v.default_value.value)
        for v in operation.variable_definitions or ()
        if isinstance(v.default_value, IntValueNode)
    }
    root = schema.get_root_type(operation.operation)
    walk = _Walk(schema, fragments, variables or {}, defaults)
    walk.walk(operation.selection_set, root, depth=0, multiplier=1)
    return walk.result


def violations(measured: Measurement, limits: QueryLimitSettings) -> list[GraphQLError]:
    checks = [
        ("depth", measured.depth, limits.max_depth, "BROADSHEET_MAX_QUERY_DEPTH"),
        ("aliases", measured.aliases, limits.max_aliases, "BROADSHEET_MAX_QUERY_ALIASES"),
        (
            "root fields",
            measured.root_fields,
            limits.max_root_fields,
            "BROADSHEET_MAX_QUERY_ROOT_FIELDS",
        ),
        ("cost", measured.cost, limits.max_cost, "BROADSHEET_MAX_QUERY_COST"),
    ]
    return [
        GraphQLError(
            f"Query too complex: {name} {actual} exceeds the limit of {limit} ({setting}).",
            extensions={
                "code": CODE,
                "limit": name,
                "max": limit,
                "actual": actual,
                "cost": measured.cost,
            },
        )
        for name, actual, limit, setting in checks
        if actual > limit
    ]


class QueryLimits(SchemaExtension):
    """Refuse over-limit documents before validation and execution; code parse and
    validation errors on the way (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED)."""

    def __init__(self, *, limits: QueryLimitSettings) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        # Changed in place: Strawberry returns these very objects in another list.
        for error in context.pre_execution_errors or []:
            if "tokens. Parsing aborted" in error.message:
                error.message = (
                    f"Query too complex: more than {self.limits.max_tokens} tokens "
                    "(BROADSHEET_MAX_QUERY_TOKENS)."
                )
                error.extensions = {"code": CODE, "limit": "tokens", "max": self.limits.max_tokens}
            elif not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_PARSE_FAILED"}

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            measured = measure(
                context.schema._schema,
                context.graphql_document,
                operation_name=context.operation_name,
                variables=context.variables,
            )
            refused = violations(measured, self.limits) if measured is not None else []
            if refused:
                # Set before validation runs, so neither validation nor execution happens.
                context.pre_execution_errors = refused
        yield
        for error in context.pre_execution_errors or []:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
