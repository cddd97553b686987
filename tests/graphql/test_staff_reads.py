"""What staff see (drafts by role, markdown, revisions, users). Sign-in over HTTP arrives with
the auth issue; until then these run the schema with a staff viewer in the context."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from db import models
from db.engine import Database
from graphql_schema.context import Context
from graphql_schema.schema import schema
from service.policy import ANONYMOUS, Viewer
from service.preview import PreviewSigner
from tests.factories import create_post, create_user


async def run(db: Database, viewer: Viewer, query: str) -> dict[str, Any]:
    preview = PreviewSigner(key="k" * 32, algorithm="HS256", issuer="t", ttl=timedelta(hours=1))
    result = await schema.execute(
        query, context_value=Context(viewer=viewer, db=db, preview=preview)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


async def test_drafts_are_visible_by_role(db: Database) -> None:
    editor = await create_user(db, name="Eddie", role=models.Role.EDITOR)
    author = await create_user(db, name="Ann", role=models.Role.AUTHOR)
    other = await create_user(db, name="Otto", role=models.Role.AUTHOR)
    await create_post(db, "Ann's draft", authors=[author], status=models.PostStatus.DRAFT)
    await create_post(db, "Otto's draft", authors=[other], status=models.PostStatus.DRAFT)
    await create_post(db, "Public", authors=[other])
    query = "{ posts(orderBy: [{field: TITLE, direction: ASC}]) { nodes { title status } } }"

    def titles(data: dict[str, Any]) -> list[str]:
        return [node["title"] for node in data["posts"]["nodes"]]

    as_editor = await run(db, Viewer(editor.id, models.Role.EDITOR), query)
    as_author = await run(db, Viewer(author.id, models.Role.AUTHOR), query)
    as_reader = await run(db, ANONYMOUS, query)

    assert titles(as_editor) == ["Ann's draft", "Otto's draft", "Public"]
    assert titles(as_author) == ["Ann's draft", "Public"]
    assert titles(as_reader) == ["Public"]


async def test_staff_read_markdown_revisions_and_users(db: Database) -> None:
    editor = await create_user(db, name="Eddie", role=models.Role.EDITOR)
    post = await create_post(db, "Revised", authors=[editor], markdown="Second")
    async with db.write_sessions.begin() as session:
        session.add(
            models.PostRevision(
                post_id=post.id, author_id=editor.id, title="First", markdown="First"
            )
        )
    async with db.write_sessions.begin() as session:
        session.add(
            models.PostRevision(
                post_id=post.id, author_id=editor.id, title="Revised", markdown="Second"
            )
        )
    viewer = Viewer(editor.id, models.Role.EDITOR)

    data = await run(
        db,
        viewer,
        '{ post(slug: "revised") { markdown revisions { title markdown author { name } } } '
        "viewer { email role author { slug } } users { totalCount nodes { email } } }",
    )

    assert data["post"]["markdown"] == "Second"
    assert [r["title"] for r in data["post"]["revisions"]] == ["Revised", "First"]
    assert data["post"]["revisions"][0]["author"] == {"name": "Eddie"}
    assert data["viewer"] == {
        "email": "eddie@example.com",
        "role": "EDITOR",
        "author": {"slug": "eddie"},
    }
    assert data["users"] == {"totalCount": 1, "nodes": [{"email": "eddie@example.com"}]}
