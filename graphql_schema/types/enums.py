"""GraphQL enums. Those backed by a model enum share its members, so the two cannot drift."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

from db import models
from db.repositories import filters

E = TypeVar("E", bound=Any)


def described(
    enum_type: E, values: Mapping[str, str], *, deprecated: Mapping[str, str] | None = None
) -> E:
    """Describe each value of a Strawberry enum (and deprecate some, each with its reason).

    Most enums share their members with a model enum in db/, which knows nothing of GraphQL,
    so the descriptions are attached here rather than with `strawberry.enum_value` there.
    Every value must be described: a new member without a description fails at import.
    """
    definition = enum_type.__strawberry_definition__
    names = {value.name for value in definition.values}
    if set(values) != names:
        raise ValueError(f"{definition.name}: describe exactly {sorted(names)}")
    for value in definition.values:
        value.description = values[value.name]
        reason = (deprecated or {}).get(value.name)
        if reason is not None:
            value.deprecation_reason = reason
    return enum_type


if TYPE_CHECKING:
    # strawberry.enum returns the very class it is given, but mypy takes no call's result as a
    # type: it is told the classes themselves.
    from db.models import PostStatus as PostStatus
    from db.models import Role as Role
    from db.models import TagVisibility as TagVisibility
    from db.models import UserStatus as UserStatus
    from db.repositories.filters import AuthorOrderField as AuthorOrderField
    from db.repositories.filters import MediaOrderField as MediaOrderField
    from db.repositories.filters import PostOrderField as PostOrderField
    from db.repositories.filters import TagOrderField as TagOrderField
else:
    PostStatus = described(
        strawberry.enum(
            models.PostStatus,
            name="PostStatus",
            description="DRAFT: unpublished. SCHEDULED: to be published at `publishedAt`. "
            "PUBLISHED: live (a scheduled post reads PUBLISHED once its time has come).",
        ),
        {
            "DRAFT": "Not published: seen by staff only (and by holders of a preview token).",
            "SCHEDULED": "To be published at `publishedAt`, which is in the future.",
            "PUBLISHED": "Live for readers since `publishedAt`.",
        },
    )
    TagVisibility = described(
        strawberry.enum(
            models.TagVisibility,
            name="TagVisibility",
            description="PUBLIC tags are shown to readers; INTERNAL ones (names starting with '#') "
            "organise content for staff and themes without being listed.",
        ),
        {
            "PUBLIC": "Shown to readers and listed.",
            "INTERNAL": "A name starting with '#': for staff and themes, never shown to readers.",
        },
    )
    Role = described(
        strawberry.enum(
            models.Role,
            name="Role",
            description="Staff roles, as in Ghost: OWNER > ADMINISTRATOR > EDITOR > AUTHOR > "
            "CONTRIBUTOR.",
        ),
        {
            "OWNER": "An administrator who cannot be deleted or demoted; exactly one.",
            "ADMINISTRATOR": "Everything, including settings, staff and API keys.",
            "EDITOR": "Everything on all posts, pages and tags; manages authors and contributors.",
            "AUTHOR": "Creates, edits, publishes and deletes their own posts; creates tags.",
            "CONTRIBUTOR": "Writes and deletes their own drafts; never publishes.",
        },
    )
    UserStatus = described(
        strawberry.enum(
            models.UserStatus,
            name="UserStatus",
            description="ACTIVE staff can sign in; LOCKED ones cannot.",
        ),
        {
            "ACTIVE": "May sign in.",
            "LOCKED": "May not sign in; their posts stay.",
        },
    )
    PostOrderField = described(
        strawberry.enum(
            filters.PostOrderField,
            name="PostOrderField",
            description="What posts and pages can be ordered by. PUBLISHED_AT puts unpublished "
            "drafts last in either direction.",
        ),
        {
            "PUBLISHED_AT": "Publication time (drafts last).",
            "CREATED_AT": "Creation time.",
            "UPDATED_AT": "Time of the last change.",
            "TITLE": "Title, alphabetically.",
        },
    )
    TagOrderField = described(
        strawberry.enum(
            filters.TagOrderField,
            name="TagOrderField",
            description="What tags can be ordered by (POST_COUNT counts posts the caller can see).",
        ),
        {
            "NAME": "Name, alphabetically.",
            "POST_COUNT": "Number of posts the caller can see.",
        },
    )
    AuthorOrderField = described(
        strawberry.enum(
            filters.AuthorOrderField,
            name="AuthorOrderField",
            description="What authors can be ordered by (POST_COUNT counts posts the caller "
            "can see).",
        ),
        {
            "NAME": "Name, alphabetically.",
            "POST_COUNT": "Number of posts the caller can see.",
        },
    )
    MediaOrderField = described(
        strawberry.enum(
            filters.MediaOrderField,
            name="MediaOrderField",
            description="What the media library can be ordered by.",
        ),
        {
            "CREATED_AT": "Upload time.",
            "FILENAME": "File name, alphabetically.",
        },
    )


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


described(
    OrderDirection,
    {"ASC": "Ascending: A to Z, oldest first.", "DESC": "Descending: Z to A, newest first."},
)
