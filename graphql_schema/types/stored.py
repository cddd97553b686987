"""Fields that show a column as it is stored, declared once: on the Strawberry type.

A public field with no resolver shows the column of the same name on the row its object is
built from (`id`, the global id, is the one such field that is built, not stored). The
general path builds its objects with `from_row`, and the compiled path's planner finds the
same fields through the schema (`is_stored`), so a field of this kind is written in exactly
one place: add it to the type and to the model, and both paths serve it. Every other field
has a resolver on the type and its own SQL in the planner.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.private import is_private

T = TypeVar("T")


def is_stored(field: StrawberryField) -> bool:
    """Whether `field` shows the row's column of the same name (as stored, but for the lists
    of navigation items a JSON column holds). A field guarded by permissions or extensions is
    never one: only its resolver's path would apply them."""
    return (
        field.base_resolver is None
        and field.python_name != "id"
        and not is_private(field.type)
        and not field.permission_classes
        and not field.extensions
    )


@functools.cache
def stored_names(cls: type) -> tuple[str, ...]:
    """The Python names of `cls`'s stored fields (its interfaces' included)."""
    definition = get_object_definition(cls, strict=True)
    return tuple(field.python_name for field in definition.fields if is_stored(field))


def from_row(cls: Callable[..., T], row: object, /, **values: Any) -> T:
    """An object of `cls` whose stored fields are `row`'s columns; `values` gives the rest
    (and any stored field whose column needs shaping first)."""
    assert isinstance(cls, type)
    for name in stored_names(cls):
        if name not in values:
            values[name] = getattr(row, name)
    built: T = cls(**values)
    return built
