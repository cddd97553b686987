"""API keys for site frontends and integrations (the secret itself is shown once)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

import strawberry

from db import models
from graphql_schema.ids import to_global_id
from graphql_schema.types.enums import described

if TYPE_CHECKING:
    # strawberry.enum returns the very class it is given; mypy takes no call's result as a type.
    from db.models import ApiKeyScope as ApiKeyScope
else:
    ApiKeyScope = described(
        strawberry.enum(
            models.ApiKeyScope,
            name="ApiKeyScope",
            description="CONTENT keys read published content; ADMIN keys act as an administrator.",
        ),
        {
            "CONTENT": "Reads published content, like an anonymous reader (for site frontends).",
            "ADMIN": "Acts with administrator rights (for trusted integrations).",
        },
    )


@strawberry.type(description="An API key (administrators only). Sent as the X-Api-Key header.")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="What the key is for.")
    scope: ApiKeyScope = strawberry.field(description="What the key may do.")
    prefix: str = strawberry.field(description="The first characters of the secret.")
    created_at: datetime = strawberry.field(description="When the key was made.")
    last_used_at: datetime | None = strawberry.field(description="Last use (to the minute).")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked, if it was.")

    @classmethod
    def from_model(cls, key: models.ApiKey) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("ApiKey", key.id)),
            name=key.name,
            scope=key.scope,
            prefix=key.prefix,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )
