"""The demo site (`broadsheet serve --demo`), read as a frontend reads it: articles worth
reading, pages behind the navigation, writers with bios, tags with descriptions, and the same
site every time it is seeded."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db import models
from db.engine import Database
from service import migrations
from service.seeding import DEMO, SeedReport, seed
from tests.conftest import POSTGRES_URL
from tests.helpers import bearer, graphql_data, sign_in

POSTS = """
query Posts {
  posts(first: 100) {
    totalCount
    nodes { title slug status html excerpt featured featureImage authors { slug } tags { slug } }
  }
}
"""
PAGE = "query Page($slug: String!) { page(slug: $slug) { title plaintext authors { slug } } }"
NAVIGATION = "{ settings { navigation { url } secondaryNavigation { url } } }"
AUTHORS = "{ authors(first: 100) { nodes { name slug bio postCount } } }"
TAGS = "{ tags(first: 100) { nodes { name slug description postCount } } }"

TRAILING_NUMBER = re.compile(r"\d+\s*$")


@pytest.fixture
async def demo(db: Database) -> SeedReport:
    return await seed(db, DEMO)


async def test_published_posts_read_like_articles(
    client: httpx.AsyncClient, demo: SeedReport
) -> None:
    posts = (await graphql_data(client, POSTS))["posts"]

    assert posts["totalCount"] == len(posts["nodes"]) == DEMO.posts
    titles = [post["title"] for post in posts["nodes"]]
    assert len(set(titles)) == len(titles)
    assert not [title for title in titles if TRAILING_NUMBER.search(title)]
    for post in posts["nodes"]:
        assert re.search(r"<h2>|<ul>|<ol>", post["html"]), post["title"]
        assert len(post["html"]) > 800, post["title"]  # paragraphs, not a line
        assert post["tags"], post["title"]
        assert post["authors"], post["title"]
        assert post["featureImage"] is None  # no images from outside hosts
    assert 0 < sum(post["featured"] for post in posts["nodes"]) < 10
    # Across the site, every kind of Markdown block a frontend has to style.
    html = "\n".join(post["html"] for post in posts["nodes"])
    for element in ("<h2>", "<ul>", "<ol>", "<blockquote>", "<pre><code", "<a href=", "<table>"):
        assert element in html, element
    assert "picsum.photos" not in html


async def test_drafts_and_the_scheduled_post_are_written_too(
    client: httpx.AsyncClient, demo: SeedReport
) -> None:
    staff = bearer(await sign_in(client, demo.owner_email, demo.owner_password))

    posts = (await graphql_data(client, POSTS, headers=staff))["posts"]["nodes"]

    statuses = [post["status"] for post in posts]
    assert statuses.count("DRAFT") == DEMO.drafts
    assert statuses.count("SCHEDULED") == DEMO.scheduled
    titles = [post["title"] for post in posts]
    assert len(titles) == len(set(titles)) == DEMO.posts + DEMO.drafts + DEMO.scheduled
    assert not [title for title in titles if TRAILING_NUMBER.search(title)]
    assert all("<h2>" in post["html"] and post["tags"] for post in posts)


async def test_the_navigation_leads_to_pages_with_text(
    client: httpx.AsyncClient, demo: SeedReport
) -> None:
    settings = (await graphql_data(client, NAVIGATION))["settings"]
    links = [item["url"] for item in settings["navigation"] + settings["secondaryNavigation"]]
    slugs = [url.strip("/") for url in links if url != "/"]
    assert sorted(slugs) == ["about", "archive", "contact"]

    for slug in slugs:
        page = (await graphql_data(client, PAGE, {"slug": slug}))["page"]
        assert page is not None, slug
        assert page["title"] == slug.capitalize()
        assert len(page["plaintext"].split()) > 80, slug
        assert page["authors"] == [{"slug": "ada-lovelace"}]


async def test_writers_have_bios_and_tags_have_descriptions(
    client: httpx.AsyncClient, demo: SeedReport
) -> None:
    authors = (await graphql_data(client, AUTHORS))["authors"]["nodes"]
    tags = (await graphql_data(client, TAGS))["tags"]["nodes"]

    assert {author["slug"] for author in authors} == {
        "ada-lovelace", "grace-hopper", "alan-turing", "margaret-hamilton", "linus-torvalds",
    }  # fmt: skip
    for author in authors:
        assert len(author["bio"]) > 60, author
        assert author["postCount"] > 0, author
    # The internal #newsletter tag is not public.
    assert {tag["slug"] for tag in tags} == {
        "technology", "science", "culture", "politics", "design", "travel", "food", "climate",
        "health", "books", "film", "music",
    }  # fmt: skip
    for tag in tags:
        assert len(tag["description"]) > 40, tag
        assert not tag["description"].startswith("Everything about"), tag
        assert tag["postCount"] >= 3, tag


async def _snapshot(db: Database) -> list[tuple[Any, ...]]:
    """Everything seeded that does not depend on the clock, in insertion order."""
    async with db.read_sessions() as session:
        posts = await session.execute(
            select(
                models.Post.id,
                models.Post.type,
                models.Post.status,
                models.Post.title,
                models.Post.slug,
                models.Post.markdown,
                models.Post.html,
                models.Post.custom_excerpt,
                models.Post.featured,
            ).order_by(models.Post.id)
        )
        tags = await session.execute(
            select(models.PostTag.post_id, models.Tag.slug, models.PostTag.sort_order)
            .join(models.Tag)
            .order_by(models.PostTag.post_id, models.PostTag.sort_order)
        )
        authors = await session.execute(
            select(models.PostAuthor.post_id, models.User.slug, models.PostAuthor.sort_order)
            .join(models.User)
            .order_by(models.PostAuthor.post_id, models.PostAuthor.sort_order)
        )
        users = await session.execute(
            select(models.User.slug, models.User.role, models.User.bio).order_by(models.User.id)
        )
        return [tuple(row) for result in (posts, tags, authors, users) for row in result]


@pytest.fixture
def second_database(migrated_template: str, tmp_path: Path) -> str:
    """Another fresh database, always SQLite: on PostgreSQL runs the two dialects are compared."""
    target = tmp_path / "second.db"
    url = f"sqlite+aiosqlite:///{target}"
    if POSTGRES_URL:
        migrations.upgrade(url)
    else:
        shutil.copy(migrated_template.removeprefix("sqlite+aiosqlite:///"), target)
    return url


async def test_the_same_seed_writes_the_same_site(
    db: Database, demo: SeedReport, second_database: str
) -> None:
    other = Database.connect(second_database)
    try:
        await seed(other, DEMO)
        assert await _snapshot(other) == await _snapshot(db)
    finally:
        await other.dispose()
