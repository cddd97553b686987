"""The documents a newcomer starts from: GraphiQL opens on them and the front door lists
them, with variables filled in from the site itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from db import models
from db.engine import Database
from service.policy import ANONYMOUS, read_scope


@dataclass(frozen=True)
class Example:
    name: str  # the operation's name, and the GraphiQL tab's
    purpose: str
    document: str
    variables: dict[str, Any]


HOMEPAGE = """query Homepage($first: Int = 10) {
  settings { title description navigation { label url } }
  posts(first: $first) {
    nodes {
      title slug url excerpt publishedAt readingTime
      primaryAuthor { name slug }
      tags { name slug }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""

POST = """query Post($slug: String!) {
  post(slug: $slug) {
    title html publishedAt readingTime
    authors { name slug bio }
    primaryTag { name slug }
  }
}"""

TAG_ARCHIVE = """# Pass the last endCursor as $after for the next page.
query TagArchive($slug: String!, $after: String) {
  tag(slug: $slug) {
    name description postCount
    posts(first: 20, after: $after) {
      nodes { title slug publishedAt }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

SEARCH = """query Search($text: String!) {
  posts(search: $text, first: 5) { totalCount nodes { title excerpt url } }
}"""


async def examples(db: Database) -> list[Example]:
    """The four examples, their variables naming the newest public post and busiest tag."""
    scope = read_scope(ANONYMOUS)
    async with db.read_sessions() as session:
        newest = (
            await session.execute(
                select(models.Post.slug, models.Post.title)
                .where(scope.posts, models.Post.type == models.PostType.POST)
                .order_by(models.Post.published_at.desc())
                .limit(1)
            )
        ).first()
        tag = await session.scalar(
            select(models.Tag.slug)
            .join(models.PostTag, models.PostTag.tag_id == models.Tag.id)
            .where(scope.tags)
            .group_by(models.Tag.slug)
            .order_by(func.count().desc(), models.Tag.slug)
            .limit(1)
        )
    slug, title = newest if newest is not None else ("hello-world", "")
    # A word of the newest title is sure to find something.
    word = max(re.findall(r"\w{4,}", title) or ["news"], key=len)
    return [
        Example(
            "Homepage", "The front page: settings and the latest posts.", HOMEPAGE, {"first": 10}
        ),
        Example("Post", "One post for its page, by slug.", POST, {"slug": slug}),
        Example(
            "TagArchive",
            "A tag's archive, 20 posts at a time.",
            TAG_ARCHIVE,
            {"slug": tag or "news", "after": None},
        ),
        Example("Search", "Full-text search, ranked by relevance.", SEARCH, {"text": word}),
    ]
