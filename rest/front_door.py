"""The front door at `/`: what this server is and where to go next, as a small HTML page for
a browser and as JSON for an API client. It lists only what this deployment exposes
(no GraphiQL link or schema in production unless they are switched on)."""

from __future__ import annotations

import html
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from db.repositories import SiteSettingsRepository
from rest.deps import DatabaseDep, SettingsDep
from rest.health import VERSION
from service.examples import examples
from service.http_safety import content_security_policy

router = APIRouter(tags=["front door"])


@router.get(
    "/",
    summary="What this server is, and where to go next",
    responses={200: {"content": {"text/html": {}, "application/json": {}}}},
)
async def front_door(request: Request, db: DatabaseDep, settings: SettingsDep) -> Response:
    """An HTML page for browsers; the same facts as JSON for `Accept: application/json`."""
    async with db.read_sessions() as session:
        site = await SiteSettingsRepository(session).get()
    facts: dict[str, Any] = {
        "title": site.title,
        "description": site.description,
        "version": VERSION,
        "links": {
            "graphql": "/graphql",
            "graphiql": "/graphql" if settings.graphiql_enabled else None,
            "schema": "/schema.graphql" if settings.introspection_enabled else None,
            "docs": "/docs",
            "redoc": "/redoc",
            "openapi": "/openapi.json",
            "health": "/healthcheck",
            "liveness": "/healthcheck/live",
            "token": "/api/v1/auth/token",
        },
        "examples": [
            {
                "name": example.name,
                "purpose": example.purpose,
                "query": example.document,
                "variables": example.variables,
            }
            for example in await examples(db)
        ],
    }
    if _wants_json(request.headers.get("accept", "")):
        return JSONResponse(facts)
    page = _page(facts, origin=str(request.base_url).rstrip("/"))
    return HTMLResponse(page, headers={"Content-Security-Policy": content_security_policy(page)})


@router.get(
    "/schema.graphql",
    summary="The GraphQL schema (SDL)",
    response_class=PlainTextResponse,
    responses={404: {"description": "Introspection is off (production's default)."}},
)
async def schema_sdl(request: Request) -> PlainTextResponse:
    """The schema in GraphQL's SDL, to generate clients from (as `broadsheet schema export`)."""
    sdl: str | None = request.app.state.sdl
    if sdl is None:
        return PlainTextResponse("Not Found", status_code=404)
    return PlainTextResponse(sdl, media_type="text/plain; charset=utf-8")


def _wants_json(accept: str) -> bool:
    """JSON when the client names it and not HTML (browsers send text/html first)."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "application/json" in kinds and "text/html" not in kinds


LINK_NAMES = {
    "graphiql": "GraphiQL, to explore the API in the browser",
    "docs": "REST API documentation (Swagger UI)",
    "redoc": "REST API documentation (ReDoc)",
    "schema": "The GraphQL schema (SDL)",
    "health": "Readiness check",
    "liveness": "Liveness check",
}


def _page(facts: dict[str, Any], *, origin: str) -> str:
    e = html.escape
    links = "".join(
        f'<li><a href="{e(path)}">{e(label)}</a> <code>{e(path)}</code></li>'
        for key, label in LINK_NAMES.items()
        if (path := facts["links"][key])
    )
    examples = "".join(
        f"<h3>{e(example['name'])}</h3><p>{e(example['purpose'])} Variables: "
        f"<code>{e(json.dumps(example['variables']))}</code></p>"
        f"<pre><code>{e(example['query'])}</code></pre>"
        f"<details><summary>With curl</summary><pre><code>{e(_curl(example, origin))}"
        "</code></pre></details>"
        for example in facts["examples"]
    )
    description = f"<p>{e(facts['description'])}</p>" if facts["description"] else ""
    where_to_try = (
        "Open one in GraphiQL (each has a tab there) or send it from a terminal."
        if facts["links"]["graphiql"]
        else "Send one from a terminal."
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(facts["title"])} · Broadsheet</title>
<link rel="icon" href="/static/favicon.svg">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto;
       padding: 0 1rem; color: #1d1d1f; }}
h1 {{ margin-bottom: 0; }} .version {{ color: #666; margin-top: 0; }}
pre {{ background: #f5f5f7; padding: 0.75rem; overflow-x: auto; border-radius: 6px; }}
code {{ font: 13px/1.4 ui-monospace, monospace; }}
li code {{ color: #666; }}
</style>
</head>
<body>
<h1>{e(facts["title"])}</h1>
<p class="version">A Broadsheet {e(facts["version"])} headless CMS: GraphQL at
<code>{e(origin)}/graphql</code>.</p>
{description}
<h2>Where to go</h2>
<ul>{links}</ul>
<h2>First queries</h2>
<p>{where_to_try} Reading published content needs no credentials.</p>
{examples}
</body>
</html>
"""


def _curl(example: dict[str, Any], origin: str) -> str:
    body = json.dumps({"query": example["query"], "variables": example["variables"]})
    quoted = body.replace("'", "'\\''")  # a quote inside: close, escape, reopen
    return f"curl -s {origin}/graphql -H 'content-type: application/json' \\\n  -d '{quoted}'"
