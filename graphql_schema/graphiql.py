"""The GraphiQL page, with its assets served by Broadsheet itself, opening on this site's
example documents."""

from __future__ import annotations

import html
import json
from functools import cache

from service.examples import Example
from service.http_safety import STATIC_DIR

# Shown above the first example: where to start, and how staff sign in.
WELCOME = """# {title}: its GraphQL API.
#
# Ctrl-Enter (or the play button) runs a document.
# The tabs hold more examples: a post, a tag
# archive, a search. Ctrl-Space completes names;
# the Docs pane describes every type and field.
#
# Readers see published content. Staff see drafts
# too: get a token with
#   curl -d username=EMAIL -d password=PASSWORD \\
#     {origin}/api/v1/auth/token
# and put its access_token in the Headers pane:
#   {{"Authorization": "Bearer ACCESS_TOKEN"}}
"""


@cache
def _graphiql_template() -> str:
    return (STATIC_DIR / "graphiql.html").read_text(encoding="utf-8")


def graphiql_page(site_title: str, examples: list[Example], *, origin: str) -> str:
    welcome = WELCOME.format(title=site_title.replace("\n", " "), origin=origin)
    tabs = [
        {
            "query": (welcome + "\n" if index == 0 else "") + example.document,
            "variables": json.dumps(example.variables, indent=2),
        }
        for index, example in enumerate(examples)
    ]
    # Inside <script>: no "</" may close it early.
    script_json = json.dumps(tabs).replace("</", "<\\/")
    return (
        _graphiql_template()
        .replace("{{ TITLE }}", html.escape(site_title))
        .replace("{{ EXAMPLE_TABS }}", script_json)
    )
