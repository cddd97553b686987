"""Tell the request's log context and metrics which GraphQL operation ran and how it failed.

List it first in the schema's extensions: hooks unwind in reverse order, so the first one sees
the errors after `ErrorPolicy` (and the query limits) have given them their codes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextvars import Token
from typing import Any

import structlog
from strawberry.extensions import SchemaExtension

from graphql_schema.documents import is_stand_in
from service.request_record import UNKNOWN_OPERATION_TYPE, GraphQLOutcome, current_request

# Only reachable when an extension listed before this one adds errors without a code.
UNKNOWN_CODE = "UNKNOWN"
MAX_NAME_LENGTH = 100


class GraphQLObservability(SchemaExtension):
    """Record the operation's type, name and error codes for the access log and metrics."""

    def __init__(self) -> None:
        self._operation_type = UNKNOWN_OPERATION_TYPE
        self._operation_name: str | None = None
        self._log_tokens: Mapping[str, Token[Any]] = {}

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            record = current_request()
            if record is not None:
                record.graphql.append(
                    GraphQLOutcome(
                        operation_type=self._operation_type,
                        operation_name=self._operation_name,
                        error_codes=self._error_codes(),
                    )
                )
            structlog.contextvars.reset_contextvars(**self._log_tokens)

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.graphql_document is None or is_stand_in(context.graphql_document):
            return  # no operation was chosen (nor is the operation name to be trusted)
        try:
            self._operation_type = context.operation_type.value
        except RuntimeError:
            # operationName names no operation in the document: the name is not to be trusted.
            return
        name = context.operation_name
        self._operation_name = name[:MAX_NAME_LENGTH] if name else None
        # Bound until the operation ends, so resolver and error-policy log lines carry it.
        self._log_tokens = structlog.contextvars.bind_contextvars(
            graphql_operation=self._operation_name,
            graphql_operation_type=self._operation_type,
        )

    def _error_codes(self) -> list[str]:
        # Incremental delivery keeps its first result elsewhere; errors are read where present.
        errors = getattr(self.execution_context.result, "errors", None) or []
        codes: list[str] = []
        for error in errors:
            code = (getattr(error, "extensions", None) or {}).get("code")
            codes.append(code if isinstance(code, str) else UNKNOWN_CODE)
        return codes
