"""Limits against abusive queries: depth, aliases, root fields, cost (potential nodes,
multiplying the page sizes of nested connections) and the nesting of input values, plus the
token limit the parser enforces. Checked after parsing and before validation or any resolver.

The measurement counts every fragment spread as written, so a document that spreads a
fragment twice at each of twenty levels counts each field under it 2²⁰ times; but it is
computed in time linear in the document's size, by measuring each fragment once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)

from db.repositories.pagination import DEFAULT_PAGE_SIZE

CODE = "QUERY_TOO_COMPLEX"
LARGEST_REPORTED = 2**53  # the largest integer every JSON client reads exactly


@dataclass(frozen=True)
class QueryLimitSettings:
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 15_000
    max_root_fields: int = 20
    max_cost: int = 50_000
    # Lists and input objects inside one argument: a filter of and/or/not nested 6 deep
    # is about 16. Deeper values would only exhaust the recursion of the layers below.
    max_input_depth: int = 32
    # List items and input-object fields in one argument: an `in` list of 100 ids is about
    # 100; an `or` of 300 conditions is about 900 (SQLite refuses expressions past ~1,000).
    max_input_values: int = 500


@dataclass
class Measurement:
    depth: int = 0
    aliases: int = 0
    root_fields: int = 0
    cost: int = 0
    input_depth: int = 0
    input_values: int = 0


@dataclass(frozen=True)
class _Shape:
    """What a selection set contributes wherever it stands: its own fields' count of aliases,
    the fields at its top level, its depth below its parent, and its cost per unit of the
    multiplier above it (cost is linear in that multiplier)."""

    aliases: int = 0
    top_fields: int = 0
    depth: int = 0
    unit_cost: int = 0

    def __add__(self, other: _Shape) -> _Shape:
        return _Shape(
            self.aliases + other.aliases,
            self.top_fields + other.top_fields,
            max(self.depth, other.depth),
            self.unit_cost + other.unit_cost,
        )


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    default_values: Mapping[str, ValueNode]
    input_depth: int = 0
    input_values: int = 0
    _variable_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    _measured: dict[str, _Shape] = field(default_factory=dict)
    _in_progress: set[str] = field(default_factory=set)

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value: Any = argument.value
            if isinstance(value, VariableNode):
                name = value.name.value
                if name in self.variables:  # given, perhaps as null (then no default applies)
                    return self.variables[name]
                value = self.default_values.get(name)
            if isinstance(value, IntValueNode):
                return _integer(value)
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

    def fragment(self, name: str) -> _Shape:
        """A fragment's shape, measured once however often it is spread. A cycle (which
        validation rejects) measures as empty instead of looping."""
        if name in self._measured:
            return self._measured[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self._in_progress:
            return _Shape()
        self._in_progress.add(name)
        scope = self.schema.get_type(fragment.type_condition.name.value)
        shape = self.selections(fragment.selection_set, scope)
        self._in_progress.discard(name)
        self._measured[name] = shape
        return shape

    def selections(self, selections: SelectionSetNode, parent: GraphQLNamedType | None) -> _Shape:
        shape = _Shape()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                shape += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                shape += self.selections(selection.selection_set, scope)
            elif isinstance(selection, FragmentSpreadNode):
                shape += self.fragment(selection.name.value)
        return shape

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Shape:
        name = node.name.value
        if name.startswith("__"):
            return _Shape()  # introspection (GraphiQL's own query is deep) is not content
        for argument in node.arguments or ():
            depth, values = self.input_size(argument.value)
            self.input_depth = max(self.input_depth, depth)
            self.input_values = max(self.input_values, values)
        aliases = int(node.alias is not None)
        if node.selection_set is None:
            return _Shape(aliases=aliases, top_fields=1, depth=1)
        definition = getattr(parent, "fields", {}).get(name)
        child = get_named_type(definition.type) if definition is not None else None
        # A connection (or `nodes(ids:)`) multiplies what is under it.
        paged = (child is not None and child.name.endswith("Connection")) or (
            name == "nodes" and parent is self.schema.query_type
        )
        factor = max(self.page_size(node), 1) if paged else 1
        inner = self.selections(node.selection_set, child)
        return _Shape(
            aliases=aliases + inner.aliases,
            top_fields=1,
            depth=1 + inner.depth,
            unit_cost=factor * (1 + inner.unit_cost),
        )

    def input_size(self, value: ValueNode) -> tuple[int, int]:
        """(depth, values) of an argument: how deep its lists and input objects nest and how
        many items and fields they hold, the values of its variables (or their defaults)
        included."""
        return _size(value, self.variable_size)

    def variable_size(self, name: str) -> tuple[int, int]:
        if name not in self._variable_sizes:  # measured once, however often it is used
            given = self.variables.get(name, self.default_values.get(name))
            self._variable_sizes[name] = _size(given, lambda _: (0, 0))
        return self._variable_sizes[name]


# Far over any limit: counting stops there, so a megabyte of variables costs no more time
# on the event loop than this many values.
SIZE_COUNTED_UP_TO = 10_000


def _size(value: Any, variable_size: Callable[[str], tuple[int, int]]) -> tuple[int, int]:
    """(depth, values) of a JSON value or a value node, without recursion."""
    deepest = values = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack and values <= SIZE_COUNTED_UP_TO:
        item, depth = stack.pop()
        if isinstance(item, VariableNode):
            inner_depth, inner_values = variable_size(item.name.value)
            deepest = max(deepest, depth + inner_depth)
            values += inner_values
            continue
        if isinstance(item, ListValueNode | list):
            children = list(item.values) if isinstance(item, ListValueNode) else item
        elif isinstance(item, ObjectValueNode):
            children = [f.value for f in item.fields]
        elif isinstance(item, dict):
            children = list(item.values())
        else:
            continue
        deepest = max(deepest, depth + 1)
        values += len(children)
        stack.extend((child, depth + 1) for child in children)
    return deepest, values


def _integer(node: IntValueNode) -> int:
    # Python refuses to read integers of over 4,300 digits; any that long is over every limit
    # (validation then reports it as no Int).
    digits = node.value.lstrip("-")
    return int(node.value) if len(digits) <= 18 else LARGEST_REPORTED


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    *,
    variables: Mapping[str, Any] | None,
) -> Measurement:
    """Measure `operation` (one of `document`'s) as it would run with `variables`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    default_values = {
        v.variable.name.value: v.default_value
        for v in operation.variable_definitions or ()
        if v.default_value is not None
    }
    root = schema.get_root_type(operation.operation)
    walk = _Walk(schema, fragments, variables or {}, default_values)
    shape = walk.selections(operation.selection_set, root)
    return Measurement(
        depth=shape.depth,
        aliases=shape.aliases,
        root_fields=shape.top_fields,
        cost=shape.unit_cost,
        input_depth=walk.input_depth,
        input_values=walk.input_values,
    )


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
        (
            "input depth",
            measured.input_depth,
            limits.max_input_depth,
            "BROADSHEET_MAX_QUERY_INPUT_DEPTH",
        ),
        (
            "input values",
            measured.input_values,
            limits.max_input_values,
            "BROADSHEET_MAX_QUERY_INPUT_VALUES",
        ),
    ]
    return [
        GraphQLError(
            f"Query too complex: {name} {_shown(actual)} exceeds the limit of {limit} ({setting}).",
            extensions={
                "code": CODE,
                "limit": name,
                "max": limit,
                "actual": min(actual, LARGEST_REPORTED),
                "cost": min(measured.cost, LARGEST_REPORTED),
            },
        )
        for name, actual, limit, setting in checks
        if actual > limit
    ]


def _shown(number: int) -> str:
    # Fragments spread twice at each of a hundred levels count 2¹⁰⁰ times: no number that
    # long belongs in a message (nor fits JSON's integers).
    return str(number) if number <= LARGEST_REPORTED else f"over {LARGEST_REPORTED}"


def token_limit_error(limits: QueryLimitSettings, parse_error: GraphQLError) -> GraphQLError:
    """The parser's refusal of a document over the token limit, said as the other limits say
    theirs, at the place the parser stopped."""
    return GraphQLError(
        f"Query too complex: more than {limits.max_tokens} tokens (BROADSHEET_MAX_QUERY_TOKENS).",
        source=parse_error.source,
        positions=parse_error.positions,
        extensions={"code": CODE, "limit": "tokens", "max": limits.max_tokens},
    )
