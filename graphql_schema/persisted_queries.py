"""The HTTP side of persisted queries: find the document a request runs before execution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from service.persisted_queries import Lookup, PersistedQueries, PersistedQueryError
from service.request_record import UNKNOWN_OPERATION_TYPE, GraphQLOutcome, current_request


async def resolve_document(
    persisted: PersistedQueries, query: str | None, extensions: Mapping[str, Any] | None
) -> Lookup | ExecutionResult:
    """The document text a request runs (its own, or the stored one its persisted-query hash
    names), or the result that refuses it. Every execution path calls this first.

    A malformed persisted-query extension raises HTTP 400, like any malformed request.
    """
    try:
        return await persisted.resolve(query, extensions)
    except PersistedQueryError as error:
        if error.malformed:
            raise HTTPException(400, str(error)) from None
        record = current_request()
        if record is not None:
            # Nothing executes, so the schema's observability extension never sees this.
            record.graphql.append(
                GraphQLOutcome(
                    operation_type=UNKNOWN_OPERATION_TYPE,
                    operation_name=None,
                    error_codes=[error.code],
                )
            )
        return ExecutionResult(
            data=None,
            errors=[GraphQLError(str(error), extensions={"code": error.code, **error.extensions})],
        )


def executed(result: ExecutionResult) -> bool:
    """Whether the document got as far as execution (parsed, valid, variables coerced): only
    then is a new persisted document worth storing."""
    return result.data is not None or any(error.path for error in result.errors or [])
