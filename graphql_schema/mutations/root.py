"""The root Mutation type."""

from __future__ import annotations

import strawberry

from graphql_schema.mutations.api_keys import ApiKeyMutations
from graphql_schema.mutations.content import ContentMutations
from graphql_schema.mutations.media import MediaMutations
from graphql_schema.mutations.preview import PreviewMutations
from graphql_schema.mutations.site_settings import SettingsMutations
from graphql_schema.mutations.staff import StaffMutations
from graphql_schema.mutations.tags import TagMutations
from graphql_schema.mutations.webhooks import WebhookMutations


@strawberry.type(description="Everything that changes content, staff and settings.")
class Mutation(
    ContentMutations,
    TagMutations,
    SettingsMutations,
    PreviewMutations,
    StaffMutations,
    ApiKeyMutations,
    WebhookMutations,
    MediaMutations,
):
    pass
