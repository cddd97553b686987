"""Staff users as staff see them."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry

from db import models
from graphql_schema.ids import to_global_id
from graphql_schema.types.author import Author
from graphql_schema.types.enums import Role, UserStatus
from graphql_schema.types.node import Node


@strawberry.type(description="A staff account (visible to staff only).")
class StaffUser(Node):
    email: str = strawberry.field(description="Sign-in email.")
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe identifier of the author profile.")
    role: Role = strawberry.field(description="What the user may do.")
    status: UserStatus = strawberry.field(description="Whether the user can sign in.")
    created_at: datetime = strawberry.field(description="When the account was created.")
    last_seen_at: datetime | None = strawberry.field(description="Last time the user was active.")
    author: Author = strawberry.field(description="The user's public author profile.")

    @classmethod
    def from_model(cls, user: models.User) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("StaffUser", user.id)),
            email=user.email,
            name=user.name,
            slug=user.slug,
            role=user.role,
            status=user.status,
            created_at=user.created_at,
            last_seen_at=user.last_seen_at,
            author=Author.from_model(user),
        )
