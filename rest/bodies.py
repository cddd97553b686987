"""What REST bodies may hold: JSON read strictly, and text without NUL characters.

The standard library's JSON reader accepts lone surrogates ("\\ud800"), which no database
driver can store and no JSON encoder can echo back in a 422; orjson refuses them, as the
GraphQL endpoint does. PostgreSQL stores no NUL in text either: such a field is a 422."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import StringConstraints

# A pattern rather than a validator, so the OpenAPI document says it too.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route whose JSON body is read by orjson (its errors are FastAPI's usual 422)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict
