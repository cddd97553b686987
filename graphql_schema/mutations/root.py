"""The root Mutation type."""

from __future__ import annotations

import strawberry

from graphql_schema.mutations.api_keys import ApiKeyMutations
from graphql_schema.mutations.staff import StaffMutations


@strawberry.type(description="Everything that changes content, staff and settings.")
class Mutation(StaffMutations, ApiKeyMutations):
    pass
