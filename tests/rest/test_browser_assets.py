"""The HTML pages (GraphiQL, Swagger UI, ReDoc) reference no other host, every asset they
name is served here, and a Content-Security-Policy allows nothing but this origin."""

from __future__ import annotations

import re

import httpx
import pytest

from db import models
from db.engine import Database

ASSET = re.compile(r'(?:src|href)="([^"]+)"')
FOREIGN = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


@pytest.mark.parametrize("path", ["/graphql", "/docs", "/redoc"])
async def test_pages_are_self_contained(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path, headers={"accept": "text/html"})

    assert page.status_code == 200
    assert FOREIGN.search(page.text) is None
    assets = [url for url in ASSET.findall(page.text) if url.startswith("/")]
    assert assets
    for url in assets:
        assert (await client.get(url)).status_code == 200, url
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'self'; script-src 'self'")
    assert "http" not in policy
    assert "frame-ancestors 'none'" in policy


async def test_graphiql_title_is_the_site_title(client: httpx.AsyncClient, db: Database) -> None:
    async with db.write_sessions.begin() as session:
        session.add(
            models.SiteSettings(
                title="The <Gazette>",
                url="https://g.example",
                navigation=[],
                secondary_navigation=[],
            )
        )

    page = await client.get("/graphql", headers={"accept": "text/html"})

    assert "<title>The &lt;Gazette&gt; · GraphiQL</title>" in page.text


def test_vendored_assets_carry_their_licences() -> None:
    from service.http_safety import STATIC_DIR

    vendor = STATIC_DIR / "vendor"
    names = {path.name for path in vendor.iterdir()}
    for package in (
        "react",
        "react-dom",
        "graphiql",
        "graphiql-plugin-explorer",
        "swagger-ui-dist",
        "redoc",
    ):
        assert f"LICENSE.{package}.txt" in names
    assert "graphiql@3.8.3" in (vendor / "VERSIONS.txt").read_text()
