"""GraphQL enums. Those backed by a model enum share its members, so the two cannot drift."""

from __future__ import annotations

import enum

import strawberry

from db import models
from db.repositories import filters

PostStatus = strawberry.enum(
    models.PostStatus,
    name="PostStatus",
    description="DRAFT: unpublished. SCHEDULED: to be published at `publishedAt`. "
    "PUBLISHED: live (a scheduled post reads PUBLISHED once its time has come).",
)
TagVisibility = strawberry.enum(
    models.TagVisibility,
    name="TagVisibility",
    description="PUBLIC tags are shown to readers; INTERNAL ones (names starting with '#') "
    "organise content for staff and themes without being listed.",
)
Role = strawberry.enum(
    models.Role,
    name="Role",
    description="Staff roles, as in Ghost: OWNER > ADMINISTRATOR > EDITOR > AUTHOR > CONTRIBUTOR.",
)
UserStatus = strawberry.enum(
    models.UserStatus,
    name="UserStatus",
    description="ACTIVE staff can sign in; LOCKED ones cannot.",
)
PostOrderField = strawberry.enum(
    filters.PostOrderField,
    name="PostOrderField",
    description="What posts and pages can be ordered by. PUBLISHED_AT puts unpublished "
    "drafts last in either direction.",
)
TagOrderField = strawberry.enum(
    filters.TagOrderField,
    name="TagOrderField",
    description="What tags can be ordered by (POST_COUNT counts posts the caller can see).",
)
AuthorOrderField = strawberry.enum(
    filters.AuthorOrderField,
    name="AuthorOrderField",
    description="What authors can be ordered by (POST_COUNT counts posts the caller can see).",
)


@strawberry.enum(description="Sort direction.")
class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"
