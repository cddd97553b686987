"""The GraphiQL page, with its assets served by Broadsheet itself."""

from __future__ import annotations

import html
from functools import cache

from service.http_safety import STATIC_DIR


@cache
def _graphiql_template() -> str:
    return (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")


def graphiql_page(site_title: str) -> str:
    return _graphiql_template().replace("{{ TITLE }}", html.escape(site_title))
