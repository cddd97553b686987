"""The mutation conventions: one transaction each, `userErrors` for bad input."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from graphql_schema.context import Info
from graphql_schema.types.enums import described
from service.errors import InvalidInput, NotFound, Unauthenticated
from service.policy import Viewer

T = TypeVar("T")


@strawberry.enum(description="Why an input was refused.")
class UserErrorCode(enum.Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    TAKEN = "TAKEN"
    CONFLICT = "CONFLICT"
    NOT_FOUND = "NOT_FOUND"
    IN_USE = "IN_USE"


described(
    UserErrorCode,
    {
        "INVALID": "Not an acceptable value (a malformed URL, date, colour, id...).",
        "REQUIRED": "Missing, or blank.",
        "TOO_SHORT": "Shorter than allowed (a password, for example).",
        "TOO_LONG": "Longer than allowed.",
        "TAKEN": "Already used by another object (a slug, an email).",
        "CONFLICT": "Changed by someone else since `expectedUpdatedAt`: reload, then retry.",
        "NOT_FOUND": "No such object, or one the caller may not see.",
        "IN_USE": "Content still uses it (a file named by a post, tag, author or the settings).",
    },
)


@strawberry.type(description="A problem with a mutation's input; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the input field at fault, e.g. ['input', 'email']."
    )
    message: str = strawberry.field(description="What is wrong, for people.")
    code: UserErrorCode = strawberry.field(description="What is wrong, for programs.")


def provided(input: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The fields of `input` the client sent: omitted ones are UNSET and stay as they are."""
    return {
        name: getattr(input, name)
        for name in fields
        if getattr(input, name) is not strawberry.UNSET
    }


def require_staff(info: Info) -> Viewer:
    """The caller, who must be signed in as staff (or use an ADMIN API key)."""
    viewer = info.context.viewer
    if not viewer.is_staff:
        raise Unauthenticated("Sign in as staff to do this.")
    return viewer


def user_errors(error: InvalidInput) -> list[UserError]:
    """Bad input as the payload's userErrors, each at its input field."""
    return [
        UserError(
            field=["input", *problem.field] if problem.field else None,
            message=problem.message,
            code=UserErrorCode(problem.code),
        )
        for problem in error.problems
    ]


async def in_transaction(
    info: Info, work: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run `work` in one write transaction; bad input or a missing object rolls it all back
    and comes back as userErrors."""
    try:
        async with info.context.db.write_sessions.begin() as session:
            result = await work(session)
        # What loaders cached before this write is stale for the payload and later mutations.
        info.context.reset_loaders()
        return result, []
    except InvalidInput as error:
        return None, user_errors(error)
    except NotFound:
        return None, [
            UserError(field=["input", "id"], message="Not found.", code=UserErrorCode.NOT_FOUND)
        ]
    except IntegrityError:
        # A concurrent write took the same unique value (an email, a slug) first.
        return None, [
            UserError(
                field=None,
                message="A concurrent change conflicted with this one; try again.",
                code=UserErrorCode.CONFLICT,
            )
        ]
