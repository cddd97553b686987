"""The six read queries of issue 7, written for Broadsheet and for PostGraphile, and how each
server's answer is brought to one canonical shape so the harness can check they agree.

Broadsheet's documents use its public schema (`schema.graphql`). The raw baseline
(`raw_app.py`) receives the very same request bodies and answers them in Broadsheet's shape,
applying an anonymous reader's visibility rules in SQL as Broadsheet does: published posts
(status not draft, `published_at` not in the future), public tags, authors with at least one
such post.

PostGraphile's documents are what a site would send it: plain `condition`s on `type` and
`status`, the unique (type, slug) lookup for one post, ordered lists of authors and tags
through the link tables by `sort_order`. They leave out the rules this data set cannot tell
apart (every post is published in the past, every tag is public, every author has posts), so
PostGraphile gets the lighter job and the comparison errs in its favour. Its search goes
through `bench_peer.search_posts`, which applies the rules in SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PUBLISHED = '{type: "post", status: "published"}'  # a PostGraphile `condition`
AUTHORS = "postsAuthors(orderBy: SORT_ORDER_ASC) { nodes { author { %s } } }"
TAGS = "postsTags(orderBy: SORT_ORDER_ASC) { nodes { tag { %s } } }"

# Words of the seeded bodies (service.seeding.WORDS), without stop words: every one matches.
SEARCH_TERMS = [
    "river", "digital memory", "garden", "ancient bridge", "network", "quiet night",
    "market", "machine", "global future", "language", "window", "modern city",
    "journey", "public data", "season", "radical answer", "paper", "local history",
    "light", "careful question",
]  # fmt: skip


@dataclass(frozen=True)
class Query:
    """One benchmark query: its documents and how to read PostGraphile's answer."""

    key: str  # short name used in tables and on the command line
    title: str
    operation: str  # operationName: the raw baseline dispatches on it
    broadsheet: str
    postgraphile: str
    # PostGraphile's `data` rewritten into Broadsheet's shape.
    from_postgraphile: Callable[[dict[str, Any]], dict[str, Any]]
    variable: str | None = None  # the name of the one variable the variants differ in


def _nodes(connection: dict[str, Any]) -> list[Any]:
    return list(connection["nodes"])


def _linked(connection: dict[str, Any], key: str) -> list[Any]:
    """A link table's nodes (`postsTags { nodes { tag { … } } }`) as the linked objects."""
    return [node[key] for node in connection["nodes"]]


# --- 1. homepage ---------------------------------------------------------------------------

HOMEPAGE = Query(
    key="homepage",
    title="settings + 15 latest posts with authors and tags",
    operation="Homepage",
    broadsheet="""
query Homepage {
  settings { title description navigation { label url } }
  posts(first: 15) {
    nodes {
      title slug publishedAt featureImage readingTime
      authors { name slug }
      tags { name slug }
    }
  }
}""",
    postgraphile=f"""
query Homepage {{
  setting(id: 1) {{ title description navigation }}
  posts(first: 15, orderBy: [PUBLISHED_AT_DESC, ID_DESC], condition: {PUBLISHED}) {{
    nodes {{
      title slug publishedAt featureImage readingTime
      {AUTHORS % "name slug"}
      {TAGS % "name slug"}
    }}
  }}
}}""",
    from_postgraphile=lambda data: {
        "settings": data["setting"],
        "posts": {"nodes": [_post_with_links(post) for post in _nodes(data["posts"])]},
    },
)


def _post_with_links(post: dict[str, Any]) -> dict[str, Any]:
    """A PostGraphile post with `postsAuthors`/`postsTags` turned into `authors`/`tags`."""
    rest = {key: value for key, value in post.items() if key not in ("postsAuthors", "postsTags")}
    if "postsAuthors" in post:
        rest["authors"] = _linked(post["postsAuthors"], "author")
    if "postsTags" in post:
        rest["tags"] = _linked(post["postsTags"], "tag")
    return rest


# --- 2. single post by slug ---------------------------------------------------------------

POST_FIELDS = (
    "title slug html publishedAt updatedAt readingTime featured featureImage metaTitle "
    "metaDescription"
)

SINGLE_POST = Query(
    key="post",
    title="single post by slug, with html, authors and tags",
    operation="SinglePost",
    broadsheet=f"""
query SinglePost($slug: String!) {{
  post(slug: $slug) {{
    {POST_FIELDS}
    authors {{ name slug bio profileImage }}
    tags {{ name slug description }}
  }}
}}""",
    postgraphile=f"""
query SinglePost($slug: String!) {{
  post: postByTypeAndSlug(type: "post", slug: $slug) {{
    {POST_FIELDS}
    {AUTHORS % "name slug bio profileImage"}
    {TAGS % "name slug description"}
  }}
}}""",
    from_postgraphile=lambda data: {"post": data["post"] and _post_with_links(data["post"])},
    variable="slug",
)

# --- 3. 100 posts, 8 scalar fields ----------------------------------------------------------

LIST_FIELDS = "title slug publishedAt createdAt updatedAt readingTime featured featureImage"

POST_LIST = Query(
    key="list",
    title="100 posts, 8 scalar fields, no nesting",
    operation="PostList",
    broadsheet=f"query PostList {{ posts(first: 100) {{ nodes {{ {LIST_FIELDS} }} }} }}",
    postgraphile=f"""
query PostList {{
  posts(first: 100, orderBy: [PUBLISHED_AT_DESC, ID_DESC], condition: {PUBLISHED}) {{
    nodes {{ {LIST_FIELDS} }}
  }}
}}""",
    from_postgraphile=lambda data: {"posts": {"nodes": _nodes(data["posts"])}},
)

# --- 4. three levels: authors → posts → tags ------------------------------------------------

NESTED = Query(
    key="nested",
    title="20 authors, each with its 10 latest posts, each with its tags",
    operation="AuthorsPostsTags",
    broadsheet="""
query AuthorsPostsTags {
  authors(first: 20) {
    nodes {
      name slug
      posts(first: 10) { nodes { title slug publishedAt tags { name slug } } }
    }
  }
}""",
    postgraphile=f"""
query AuthorsPostsTags {{
  users(first: 20, orderBy: [NAME_ASC, ID_ASC]) {{
    nodes {{
      name slug
      posts: postsByPostsAuthorAuthorIdAndPostId(
        first: 10, orderBy: [PUBLISHED_AT_DESC, ID_DESC], condition: {PUBLISHED}
      ) {{
        nodes {{ title slug publishedAt {TAGS % "name slug"} }}
      }}
    }}
  }}
}}""",
    from_postgraphile=lambda data: {
        "authors": {
            "nodes": [
                {
                    "name": user["name"],
                    "slug": user["slug"],
                    "posts": {"nodes": [_post_with_links(p) for p in _nodes(user["posts"])]},
                }
                for user in _nodes(data["users"])
            ]
        }
    },
)

# --- 5. a filtered, ordered connection with totalCount ---------------------------------------

TAG_FEED = Query(
    key="filtered",
    title="posts with a tag, by title, first 20, with totalCount",
    operation="TagFeed",
    broadsheet="""
query TagFeed($tag: String!) {
  posts(first: 20, filter: { tag: { eq: $tag } }, orderBy: [{ field: TITLE, direction: ASC }]) {
    totalCount
    nodes { title slug publishedAt }
  }
}""",
    postgraphile=f"""
query TagFeed($tag: String!) {{
  posts(
    first: 20, orderBy: [TITLE_ASC, ID_ASC], condition: {PUBLISHED},
    filter: {{postsTags: {{some: {{tag: {{slug: {{equalTo: $tag}}}}}}}}}}
  ) {{
    totalCount
    nodes {{ title slug publishedAt }}
  }}
}}""",
    from_postgraphile=lambda data: {"posts": data["posts"]},
    variable="tag",
)

# --- 6. full-text search --------------------------------------------------------------------

SEARCH = Query(
    key="search",
    title="full-text search, 10 best matches",
    operation="Search",
    broadsheet="""
query Search($q: String!) {
  posts(search: $q, first: 10) { nodes { title slug publishedAt } }
}""",
    # bench_peer.search_posts applies the visibility rules and the relevance order itself.
    postgraphile="""
query Search($q: String!) {
  searchPosts(q: $q, first: 10) { nodes { title slug publishedAt } }
}""",
    from_postgraphile=lambda data: {"posts": {"nodes": _nodes(data["searchPosts"])}},
    variable="q",
)

QUERIES = [HOMEPAGE, SINGLE_POST, POST_LIST, NESTED, TAG_FEED, SEARCH]

# PostgreSQL's function behind PostGraphile's `searchPosts`, in a schema of its own so that
# Alembic's `public` schema stays exactly as the migrations made it.
PEER_SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS bench_peer;
CREATE OR REPLACE FUNCTION bench_peer.search_posts(q text) RETURNS SETOF public.posts
LANGUAGE sql STABLE AS $$
  SELECT p.* FROM public.posts p
  WHERE p.type = 'post' AND p.status <> 'draft' AND p.published_at <= now()
    AND p.search_vector @@ websearch_to_tsquery('english', q)
  ORDER BY ts_rank_cd(p.search_vector, websearch_to_tsquery('english', q)) DESC, p.id DESC
$$;
"""


# --- canonical form -------------------------------------------------------------------------


def canonical(value: Any, key: str = "") -> Any:
    """`value` with timestamps (keys ending in `At`) as UTC ISO strings, for comparison."""
    if isinstance(value, dict):
        return {k: canonical(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [canonical(item, key) for item in value]
    if isinstance(value, str) and key.endswith("At"):
        return datetime.fromisoformat(value).astimezone(UTC).isoformat()
    return value


def first_difference(left: Any, right: Any, path: str = "data") -> str | None:
    """Where two canonical answers first differ, and how; None when they are equal."""
    if isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            return f"{path}: keys {sorted(left)} != {sorted(right)}"
        for key in left:
            found = first_difference(left[key], right[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return f"{path}: {len(left)} items != {len(right)} items"
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else f"{path}: {left!r} != {right!r}"
