"""Moving from Ghost: `broadsheet import ghost` and `broadsheet export ghost`, through the
command line, then read back over GraphQL and straight from the database."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text

from db import models
from db.engine import Database
from service.cli import main
from tests.helpers import graphql_data

FIXTURES = Path(__file__).parent / "fixtures" / "ghost"
GHOST4 = FIXTURES / "ghost4.json"  # Ghost 4: mobiledoc + html, no {"db": [...]} wrapper
GHOST5 = FIXTURES / "ghost5.json"  # Ghost 5: lexical + html, wrapped, posts[7] is broken
SECRETS = ("notarealhashbutstillasecret", "SECRET", "sk_test_secret", "key-secret", "deadbeef")
TABLES = ("users", "tags", "posts", "posts_tags", "posts_authors", "settings", "content_version")

HOME = "{ settings { title navigation { label url } secondaryNavigation { label url } metaTitle } posts(first: 20) { nodes { slug title status } } pages { nodes { slug title } } tags { nodes { slug } } }"
POST = "query($slug: String!) { post(slug: $slug) { title slug html excerpt featured featureImage featureImageAlt featureImageCaption metaTitle ogImage publishedAt authors { slug } tags { slug } markdown } }"
STAFF_POSTS = "{ posts(first: 20, filter: {status: {in: [DRAFT, SCHEDULED]}}) { nodes { slug status publishedAt } } tags(filter: {visibility: {eq: INTERNAL}}) { nodes { slug name } } }"


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `broadsheet ARGS…` against the test database (in a thread: the CLI runs its own
    event loop, and async tests are already in one)."""
    monkeypatch.setenv("BROADSHEET_DATABASE_URL", database_url)

    async def run(*args: str | Path) -> Result:
        return await asyncio.to_thread(CliRunner().invoke, main, [str(arg) for arg in args])

    return run


async def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the content tables, and the content version (which any write moves)."""
    db = Database.connect(url)
    try:
        async with db.read_sessions() as session:
            return {
                table: sorted(
                    (tuple(row) for row in await session.execute(text(f"SELECT * FROM {table}"))),
                    key=repr,
                )
                for table in TABLES
            }
    finally:
        await db.dispose()


async def _users(url: str) -> list[models.User]:
    db = Database.connect(url)
    try:
        async with db.read_sessions() as session:
            return list(await session.scalars(select(models.User).order_by(models.User.id)))
    finally:
        await db.dispose()


async def test_import_a_ghost_4_site(
    cli: Any, client: httpx.AsyncClient, database_url: str, as_staff: Any
) -> None:
    result = await cli("import", "ghost", GHOST4)

    assert result.exit_code == 0, result.output
    assert "posts: 6 create\npages: 1 create\ntags: 3 create\nusers: 4 create\n" in result.output
    assert "create    post     hello-world-2  (data.posts[5])" in result.output
    assert (
        "slug 'hello-world' is taken by another post: imported as 'hello-world-2'" in result.output
    )
    assert "not imported (no place for them in Broadsheet): members, api_keys" in result.output

    home = await graphql_data(client, HOME)
    assert home["settings"] == {
        "title": "Field Notes",
        "navigation": [
            {"label": "Home", "url": "http://localhost:8000/"},
            {"label": "About", "url": "http://localhost:8000/about/"},
        ],
        "secondaryNavigation": [{"label": "RSS", "url": "http://localhost:8000/rss/"}],
        "metaTitle": "Field Notes — a Ghost site",
    }
    # Readers see published posts only: not the draft, the scheduled one or the paid one.
    assert sorted(n["slug"] for n in home["posts"]["nodes"]) == [
        "about",
        "hello-world",
        "hello-world-2",
    ]
    assert home["pages"]["nodes"] == [{"slug": "about", "title": "About"}]
    assert sorted(n["slug"] for n in home["tags"]["nodes"]) == ["cafe", "news"]

    editor, headers = await as_staff(models.Role.EDITOR)
    post = (await graphql_data(client, POST, {"slug": "hello-world"}, headers=headers))["post"]
    assert post == {
        "title": "Hello, wörld",
        "slug": "hello-world",
        "html": '<p>Hello <strong>wörld</strong>, see <a href="http://localhost:8000/about/" '
        'rel="noopener noreferrer">our about page</a>.</p>',
        "excerpt": "The first post.",
        "featured": True,
        "featureImage": "http://localhost:8000/content/images/2021/03/hello.jpg",
        "featureImageAlt": "A hello",
        "featureImageCaption": 'Photo by <a href="https://ex.example" rel="noopener noreferrer">Ex</a>',
        "metaTitle": "Hello, wörld — Field Notes",
        "ogImage": "http://localhost:8000/content/images/2021/03/og.jpg",
        "publishedAt": "2021-03-01T09:00:00+00:00",
        "authors": [{"slug": "zoe"}, {"slug": "grace"}],  # in Ghost's sort_order
        "tags": [{"slug": "news"}, {"slug": "cafe"}, {"slug": "hash-newsletter"}],
        "markdown": "Hello **wörld**, see [our about page](http://localhost:8000/about/).",
    }
    staff = await graphql_data(client, STAFF_POSTS, headers=headers)
    assert {(n["slug"], n["status"]) for n in staff["posts"]["nodes"]} == {
        ("a-draft-in-sections", "DRAFT"),
        ("coming-soon", "SCHEDULED"),
        ("members-only", "DRAFT"),  # Broadsheet has no members: not published to everyone
    }
    assert staff["tags"]["nodes"] == [{"slug": "hash-newsletter", "name": "#newsletter"}]
    # A draft with no html: its Markdown is made from the mobiledoc sections and cards.
    draft = await graphql_data(client, POST, {"slug": "a-draft-in-sections"}, headers=headers)
    assert draft["post"]["markdown"] == (
        "## A draft heading\n\nSome **bold** words and a [link](https://example.com/).\n\n"
        "- first\n- second\n\n```python\nprint('hi')\n```\n"
    )

    users = {user.email: user for user in await _users(database_url)}
    assert {email: (u.role, u.status) for email, u in users.items() if email != editor.email} == {
        "ada@example.com": (models.Role.OWNER, models.UserStatus.ACTIVE),
        "grace@example.com": (models.Role.EDITOR, models.UserStatus.ACTIVE),
        "zoe@example.com": (models.Role.AUTHOR, models.UserStatus.ACTIVE),
        "con@example.com": (models.Role.CONTRIBUTOR, models.UserStatus.LOCKED),
    }
    assert all(user.password_hash is None for user in users.values())
    stored = repr(await _snapshot(database_url))
    assert not any(secret in stored for secret in SECRETS)


async def test_a_dry_run_says_what_it_would_do_and_writes_nothing(
    cli: Any, database_url: str
) -> None:
    before = await _snapshot(database_url)

    result = await cli("import", "ghost", GHOST4, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "create    user     ada@example.com  (data.users[0])" in result.output
    assert "create    tag      hash-newsletter  (data.tags[1])" in result.output
    assert "create    post     hello-world  (data.posts[0])" in result.output
    assert "create    page     about  (data.posts[3])" in result.output
    assert "create    post     about  (data.posts[4])" in result.output
    assert result.output.endswith("Nothing was written.\n")
    assert await _snapshot(database_url) == before


async def test_a_second_run_changes_nothing(cli: Any, database_url: str) -> None:
    assert (await cli("import", "ghost", GHOST4)).exit_code == 0
    first = await _snapshot(database_url)

    again = await cli("import", "ghost", GHOST4)

    assert again.exit_code == 0, again.output
    assert "posts: 6 unchanged\npages: 1 unchanged\ntags: 3 unchanged\nusers: 4 unchanged\n" in (
        again.output
    )
    assert "settings: 1 unchanged" in again.output
    assert await _snapshot(database_url) == first  # the content version did not move either
    dry = await cli("import", "ghost", GHOST4, "--dry-run")
    assert "unchanged post     hello-world-2  (data.posts[5])" in dry.output
    # One site.changed for the import that changed the site; none for the run that did not.
    assert await _events(database_url) == [("site.changed", "site:import-ghost")]


async def test_a_second_run_with_a_new_excerpt_updates_the_kept_one(
    cli: Any, database_url: str, tmp_path: Path
) -> None:
    """The excerpt readers get is kept with the post: a re-import that changes what it comes
    from changes it too."""
    assert (await cli("import", "ghost", GHOST4)).exit_code == 0
    export = json.loads(GHOST4.read_text())
    posts = export["data"]["posts"]
    posts[0]["custom_excerpt"] = "A brand new excerpt"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(export))

    again = await cli("import", "ghost", changed)

    assert again.exit_code == 0, again.output
    db = Database.connect(database_url)
    try:
        async with db.read_sessions() as session:
            kept = await session.scalar(
                select(models.Post.excerpt).where(models.Post.slug == posts[0]["slug"])
            )
    finally:
        await db.dispose()
    assert kept == "A brand new excerpt"


async def _events(url: str) -> list[tuple[str, str]]:
    db = Database.connect(url)
    try:
        async with db.read_sessions() as session:
            rows = await session.execute(select(models.Event.type, models.Event.subject))
            return [(type, subject) for type, subject in rows]
    finally:
        await db.dispose()


async def test_strict_stops_at_the_broken_record_with_nothing_written(
    cli: Any, database_url: str
) -> None:
    before = await _snapshot(database_url)

    result = await cli("import", "ghost", GHOST5, "--strict")

    assert result.exit_code == 1
    assert "error     post     broken  (db[0].data.posts[7])" in result.output
    assert "title: This field is required." in result.output
    assert "status: unknown status 'bogus'" in result.output
    assert "Nothing was written." in result.output
    assert await _snapshot(database_url) == before


async def test_a_broken_record_is_reported_and_the_rest_imported(
    cli: Any, client: httpx.AsyncClient, as_staff: Any
) -> None:
    result = await cli("import", "ghost", GHOST5)

    assert result.exit_code == 1
    assert "error     post     broken  (db[0].data.posts[7])" in result.output
    assert "posts: 6 create, 1 error\npages: 1 create\n" in result.output
    assert "1 record could not be imported." in result.output
    home = await graphql_data(client, HOME)
    assert {n["title"] for n in home["posts"]["nodes"]} == {
        "日本語のタイトル",
        "Contact details changed",
        "Über Reisen",
        "Mañana",
    }
    assert home["pages"]["nodes"] == [{"slug": "contact", "title": "Contact"}]
    _, headers = await as_staff(models.Role.EDITOR)
    # Three authors in order; the internal tag is seen by staff only.
    post = await graphql_data(client, POST, {"slug": "ri-ben-yu-notaitoru"}, headers=headers)
    assert post["post"]["authors"] == [{"slug": "jose"}, {"slug": "ana"}, {"slug": "owen"}]
    assert post["post"]["tags"] == [{"slug": "travel"}, {"slug": "hash-featured-home"}]
    # No html in the file: the body comes from the Lexical tree, and renders as any body.
    draft = (await graphql_data(client, POST, {"slug": "night-trains"}, headers=headers))["post"]
    assert draft["markdown"] == (
        "## Getting there\n\nTake the **night** train, [see the map](http://localhost:8000/map/)."
        "\n\n1. passport\n2. tickets\n\n```bash\necho hi\n```\n"
    )
    assert draft["html"].startswith("<h2>Getting there</h2>\n<p>Take the <strong>night</strong>")
    scheduled = await graphql_data(client, POST, {"slug": "slow-travel"}, headers=headers)
    assert scheduled["post"]["publishedAt"] == "2099-06-01T09:00:00+00:00"


async def test_a_zip_export_is_read_and_its_images_reported(cli: Any, tmp_path: Path) -> None:
    archive = tmp_path / "site.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(GHOST4, "export/site.ghost.json")
        zipped.writestr("export/content/images/2021/03/hello.jpg", b"\xff\xd8not really")

    result = await cli("import", "ghost", archive)

    assert result.exit_code == 0, result.output
    assert "1 images in the zip were not copied" in result.output
    assert "posts: 6 create" in result.output


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """An export without the one thing that must differ between two: when it was made."""
    (database,) = document["db"]
    return {"meta": {**database["meta"], "exported_on": None}, "data": database["data"]}


async def test_export_and_round_trip(cli: Any, tmp_path: Path) -> None:
    assert (await cli("import", "ghost", GHOST4)).exit_code == 0
    assert (await cli("import", "ghost", GHOST5)).exit_code == 1  # its broken record
    first = tmp_path / "first.json"

    exported = await cli("export", "ghost", first)

    assert exported.exit_code == 0, exported.output
    assert "Wrote 14 posts and pages, 5 tags, 7 users" in exported.output
    document = json.loads(first.read_text())
    data = document["db"][0]["data"]
    assert document["db"][0]["meta"]["version"].startswith("5.")
    hello = next(post for post in data["posts"] if post["slug"] == "hello-world")
    assert hello["id"] == "6151f5fca366002ebd5dbf01"  # Ghost's own id, kept
    assert json.loads(hello["lexical"])["root"]["children"] == [
        {
            "type": "markdown",
            "version": 1,
            "markdown": "Hello **wörld**, see [our about page](__GHOST_URL__/about/).",
        }
    ]
    assert "__GHOST_URL__/about/" in hello["html"]
    assert {"key": "title", "value": "Field Notes"} in [
        {"key": s["key"], "value": s["value"]} for s in data["settings"]
    ]
    assert not any(secret in first.read_text() for secret in SECRETS)
    assert all("password" not in user for user in data["users"])

    # Into an empty database, and out again: the same file.
    assert (await cli("db", "downgrade", "base")).exit_code == 0
    assert (await cli("db", "upgrade")).exit_code == 0
    imported = await cli("import", "ghost", first)
    assert imported.exit_code == 0, imported.output
    assert "posts: 12 create\npages: 2 create\ntags: 5 create\nusers: 7 create\n" in (
        imported.output
    )
    second = tmp_path / "second.json"
    assert (await cli("export", "ghost", second)).exit_code == 0
    assert _comparable(json.loads(second.read_text())) == _comparable(document)


async def test_not_a_ghost_export(cli: Any, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"posts": []}')

    result = await cli("import", "ghost", wrong)

    assert result.exit_code == 1
    assert "no Ghost data" in result.output


async def test_text_no_database_stores_and_dates_out_of_the_calendar_are_reported(
    cli: Any, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """A NUL in a title, or an instant that leaves the calendar once in UTC, is the file's
    fault: reported with its path, the rest imported (PostgreSQL would refuse the first,
    and the second failed outside any check)."""
    export = json.loads(GHOST4.read_text())
    posts = export["data"]["posts"]
    posts[0]["title"] = "Null\x00byte"
    posts[1]["published_at"] = "0001-01-01T00:00:00+01:00"
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(export))

    result = await cli("import", "ghost", odd)

    assert result.exit_code == 1, result.output
    assert "data.posts[0]" in result.output
    assert "title: Text may not hold a NUL character" in result.output
    assert "data.posts[1]" in result.output
    assert "published_at: not a date" in result.output
    assert "2 records could not be imported." in result.output
