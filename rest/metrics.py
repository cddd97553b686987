"""Prometheus metrics at /metrics: only mounted when enabled, optionally behind a bearer token."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder


def _bearer_matches(authorization: str | None, token: str) -> bool:
    scheme, _, supplied = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        supplied.strip().encode(), token.encode()
    )


def metrics_router(registry: CollectorRegistry, *, token: str | None = None) -> APIRouter:
    """A router serving `registry`; with `token`, scrapers must send it as a Bearer token."""
    if token == "":
        # An empty token would let any "Bearer " header through: refuse rather than guess.
        raise ValueError("The metrics token must not be empty")
    router = APIRouter(tags=["observability"])

    # Kept out of the OpenAPI document: it is for the scraper, not for API clients.
    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics of this server: every worker's, when it has several."""
        if token is not None and not _bearer_matches(request.headers.get("authorization"), token):
            raise HTTPException(
                status_code=401,
                detail="A valid metrics token is required.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), media_type=content_type)

    return router
