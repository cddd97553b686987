"""The raw baseline: a bare ASGI app on asyncpg where PostgreSQL builds each whole response.

It answers the benchmark's GraphQL requests (the same bodies Broadsheet gets) without any
GraphQL: it reads the JSON body, picks the SQL statement by `operationName`, passes the
variables as parameters and sends the JSON text PostgreSQL returns, in Broadsheet's shape.
That is about the least work a Python process can do per request here: the physical limit.

    RAW_DATABASE_DSN=postgresql://postgres@127.0.0.1:5432/bench \\
        uvicorn raw_app:app --app-dir bench --workers 1

The visibility rules are an anonymous reader's, as in Broadsheet: published posts (status not
draft, `published_at` not in the future), public tags, authors with at least one such post.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

VISIBLE = "p.type = 'post' AND p.status <> 'draft' AND p.published_at <= now()"
LATEST = "p.published_at DESC NULLS LAST, p.id DESC"


def linked(link: str, column: str, table: str, where: str, post: str, fields: str) -> str:
    """A post's authors or tags in `sort_order`, as a JSON array. Each row is looked up by its
    primary key in a subquery: joined, the planner hashes the whole table for every post."""
    return f"""(SELECT coalesce(json_agg(l.item ORDER BY l.sort_order), '[]') FROM (
      SELECT k.sort_order,
             (SELECT json_build_object({fields}) FROM {table} WHERE {where} AND id = k.{column})
             AS item
      FROM {link} k WHERE k.post_id = {post}) l WHERE l.item IS NOT NULL)"""


def authors_of(post: str, fields: str) -> str:
    return linked("posts_authors", "author_id", "users u", "true", post, fields)


def tags_of(post: str, fields: str) -> str:
    return linked("posts_tags", "tag_id", "tags t", "t.visibility = 'public'", post, fields)


def response(data: str) -> str:
    """The statement answering `{"data": <data>}` as JSON text."""
    return f"SELECT json_build_object('data', {data})::text"


# One statement per operation, and the variables it takes, in parameter order.
STATEMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Homepage": (
        response(f"""json_build_object(
  'settings', (SELECT json_build_object(
      'title', s.title, 'description', s.description, 'navigation', s.navigation)
    FROM settings s WHERE s.id = 1),
  'posts', json_build_object('nodes', coalesce((
    SELECT json_agg(json_build_object(
      'title', p.title, 'slug', p.slug, 'publishedAt', p.published_at,
      'featureImage', p.feature_image, 'readingTime', p.reading_time,
      'authors', {authors_of("p.id", "'name', u.name, 'slug', u.slug")},
      'tags', {tags_of("p.id", "'name', t.name, 'slug', t.slug")}
    ) ORDER BY {LATEST})
    FROM (SELECT p.id, p.title, p.slug, p.published_at, p.feature_image, p.reading_time
          FROM posts p WHERE {VISIBLE} ORDER BY {LATEST} LIMIT 15) p), '[]')))"""),
        (),
    ),
    "SinglePost": (
        response(f"""json_build_object('post', (
  SELECT json_build_object(
    'title', p.title, 'slug', p.slug, 'html', p.html, 'publishedAt', p.published_at,
    'updatedAt', p.updated_at, 'readingTime', p.reading_time, 'featured', p.featured,
    'featureImage', p.feature_image, 'metaTitle', p.meta_title,
    'metaDescription', p.meta_description,
    'authors', {authors_of("p.id", "'name', u.name, 'slug', u.slug, 'bio', u.bio, 'profileImage', u.profile_image")},
    'tags', {tags_of("p.id", "'name', t.name, 'slug', t.slug, 'description', t.description")})
  FROM posts p WHERE p.slug = $1 AND {VISIBLE}))"""),  # noqa: E501
        ("slug",),
    ),
    "PostList": (
        response(f"""json_build_object('posts', json_build_object('nodes', coalesce((
  SELECT json_agg(json_build_object(
    'title', p.title, 'slug', p.slug, 'publishedAt', p.published_at,
    'createdAt', p.created_at, 'updatedAt', p.updated_at, 'readingTime', p.reading_time,
    'featured', p.featured, 'featureImage', p.feature_image) ORDER BY {LATEST})
  FROM (SELECT p.id, p.title, p.slug, p.published_at, p.created_at, p.updated_at,
               p.reading_time, p.featured, p.feature_image
        FROM posts p WHERE {VISIBLE} ORDER BY {LATEST} LIMIT 100) p), '[]')))"""),
        (),
    ),
    "AuthorsPostsTags": (
        response(f"""json_build_object('authors', json_build_object('nodes', coalesce((
  SELECT json_agg(json_build_object('name', a.name, 'slug', a.slug,
    'posts', json_build_object('nodes', coalesce((
      SELECT json_agg(json_build_object(
        'title', p.title, 'slug', p.slug, 'publishedAt', p.published_at,
        'tags', {tags_of("p.id", "'name', t.name, 'slug', t.slug")}) ORDER BY {LATEST})
      FROM (SELECT p.id, p.title, p.slug, p.published_at
            FROM posts p JOIN posts_authors pa ON pa.post_id = p.id
            WHERE pa.author_id = a.id AND {VISIBLE} ORDER BY {LATEST} LIMIT 10) p), '[]'))
  ) ORDER BY a.name, a.id)
  FROM (SELECT u.id, u.name, u.slug FROM users u
        WHERE EXISTS (SELECT 1 FROM posts_authors pa JOIN posts p ON p.id = pa.post_id
                      WHERE pa.author_id = u.id AND {VISIBLE})
        ORDER BY u.name, u.id LIMIT 20) a), '[]')))"""),
        (),
    ),
    "TagFeed": (
        f"""WITH matching AS (
  SELECT p.id, p.title, p.slug, p.published_at FROM posts p
  WHERE {VISIBLE} AND EXISTS (
    SELECT 1 FROM posts_tags pt JOIN tags t ON t.id = pt.tag_id
    WHERE pt.post_id = p.id AND t.slug = $1 AND t.visibility = 'public'))
"""
        + response("""json_build_object('posts', json_build_object(
  'totalCount', (SELECT count(*) FROM matching),
  'nodes', coalesce((
    SELECT json_agg(json_build_object(
      'title', m.title, 'slug', m.slug, 'publishedAt', m.published_at) ORDER BY m.title, m.id)
    FROM (SELECT * FROM matching ORDER BY title, id LIMIT 20) m), '[]')))"""),
        ("tag",),
    ),
    "Search": (
        response(f"""json_build_object('posts', json_build_object('nodes', coalesce((
  SELECT json_agg(json_build_object(
    'title', s.title, 'slug', s.slug, 'publishedAt', s.published_at)
    ORDER BY s.rank DESC, s.id DESC)
  FROM (SELECT p.id, p.title, p.slug, p.published_at, ts_rank_cd(p.search_vector, q) AS rank
        FROM posts p, websearch_to_tsquery('english', $1) q
        WHERE {VISIBLE} AND p.search_vector @@ q
        ORDER BY rank DESC, p.id DESC LIMIT 10) s), '[]')))"""),
        ("q",),
    ),
}

HEADERS = [(b"content-type", b"application/json")]
pool: asyncpg.Pool | None = None


async def keep_session(_connection: asyncpg.Connection) -> None:
    """Skip asyncpg's reset on release (RESET ALL, UNLISTEN *, …: four statements a request):
    this app never changes session state."""


async def lifespan(receive: Receive, send: Send) -> None:
    global pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get("RAW_POOL_SIZE", "10"))
            pool = await asyncpg.create_pool(
                os.environ["RAW_DATABASE_DSN"], min_size=size, max_size=size, reset=keep_session
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if pool is not None:
                await pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def answer(send: Send, status: int, body: bytes) -> None:
    headers = [*HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if scope["method"] != "POST":
        await answer(send, 200, b'{"status": "ok"}')
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    request = json.loads(body)
    found = STATEMENTS.get(request.get("operationName") or "")
    if found is None:
        await answer(send, 400, b'{"errors": [{"message": "unknown operation"}]}')
        return
    statement, names = found
    variables = request.get("variables") or {}
    assert pool is not None
    async with pool.acquire() as connection:
        text = await connection.fetchval(statement, *(variables[name] for name in names))
    await answer(send, 200, text.encode())
