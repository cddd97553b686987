"""The committed SDL is what the code serves; every public type, field, argument, input field
and enum value is documented, and every deprecation gives its reason."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any

import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from graphql_schema.schema import schema

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_matches_the_code() -> None:
    assert (ROOT / "schema.graphql").read_text() == schema.as_str() + "\n"


BUILT_IN_SCALARS = {"String", "Int", "Float", "Boolean", "ID", "DateTime"}
DEFAULT_REASON = "No longer supported"  # what @deprecated says when no reason is given


def schema_problems(graphql: GraphQLSchema) -> list[str]:
    """Everything public without a description, and every deprecation without a reason."""
    problems: list[str] = []

    def check(where: str, element: Any) -> None:
        if not (element.description or "").strip():
            problems.append(f"{where}: no description")
        reason = getattr(element, "deprecation_reason", None)
        if reason is not None and (not reason.strip() or reason == DEFAULT_REASON):
            problems.append(f"{where}: deprecated without a reason")

    for name, type_ in graphql.type_map.items():
        if name.startswith("__") or name in BUILT_IN_SCALARS:
            continue
        check(name, type_)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                check(f"{name}.{field_name}", field)
                for arg_name, arg in getattr(field, "args", {}).items():
                    check(f"{name}.{field_name}({arg_name})", arg)
        if isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                check(f"{name}.{value_name}", value)
    for directive in graphql.directives:
        check(f"@{directive.name}", directive)
        for arg_name, arg in directive.args.items():
            check(f"@{directive.name}({arg_name})", arg)
    return problems


def test_everything_public_is_documented_and_every_deprecation_has_a_reason() -> None:
    assert schema_problems(schema._schema) == []


@strawberry.enum(description="A colour.")
class Colour(enum.Enum):
    RED = "red"
    BLUE = strawberry.enum_value("blue", deprecation_reason="")


@strawberry.input
class Where:
    near: str = strawberry.field(description="Near what.")
    far: str | None = None


@strawberry.type(description="The root.")
class Root:
    @strawberry.field(description="Something.", deprecation_reason="Use `other`.")
    def thing(self, where: Where, colour: Colour | None = None) -> str:
        return ""

    @strawberry.field(description="Else.", deprecation_reason=DEFAULT_REASON)
    def other(self) -> str:
        return ""


def test_the_check_finds_what_is_missing() -> None:
    toy = strawberry.Schema(query=Root)._schema
    assert sorted(schema_problems(toy)) == sorted(
        [
            "Root.thing(where): no description",
            "Root.thing(colour): no description",
            "Root.other: deprecated without a reason",
            "Where: no description",
            "Where.far: no description",
            "Colour.RED: no description",
            "Colour.BLUE: no description",
            "Colour.BLUE: deprecated without a reason",
        ]
    )
