"""GraphQL errors with the `extensions.code` clients key on."""

from __future__ import annotations

from graphql import GraphQLError


def bad_user_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})
