"""Writing a Ghost export (Ghost 5's JSON format) that Ghost and Broadsheet's importer read:
each body as a Lexical document holding its Markdown source, plus its html; links to this
site as `__GHOST_URL__`; no passwords, keys or other secrets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from db import models
from db.base import utcnow
from db.engine import Database
from db.repositories.site_settings import SiteSettingsRepository
from service.ghost import bodies
from service.ghost.fields import GHOST_URL
from service.ghost.import_users import ROLES

GHOST_VERSION = "5.0.0"
ROLE_NAMES = {role: name for name, role in ROLES.items() if name != "Super Editor"}
# Ids of the roles table, which Broadsheet does not have: fixed, as Ghost's are per site.
ROLE_IDS = {role: f"{index + 1:024x}" for index, role in enumerate(models.Role)}


def _date(value: datetime | None) -> str | None:
    """Ghost's form: UTC, milliseconds, 'Z'."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _id(row: Any, prefix: str) -> str:
    """The row's Ghost id, or a stable one of Ghost's shape made from Broadsheet's id."""
    return row.ghost_id or f"{prefix}{row.id:0{24 - len(prefix)}x}"


class _Links:
    """Replaces this site's URL with Ghost's placeholder, so the file moves between sites."""

    def __init__(self, site_url: str) -> None:
        self.pattern = re.compile(re.escape(site_url.rstrip("/")) + r"(?=[/\"'\s)?#]|$)")

    def __call__(self, value: str | None) -> str | None:
        return self.pattern.sub(GHOST_URL, value) if value else value


def _post(post: models.Post, links: _Links) -> dict[str, Any]:
    return {
        "id": _id(post, "b"),
        "title": post.title,
        "slug": post.slug,
        "lexical": links(bodies.lexical_document(post.markdown or "")),
        "mobiledoc": None,
        "html": links(post.html),
        "plaintext": post.plaintext,
        "feature_image": links(post.feature_image),
        "featured": post.featured,
        "type": post.type.value,
        "status": post.status.value,
        "visibility": "public",
        "custom_excerpt": post.custom_excerpt,
        "canonical_url": links(post.canonical_url),
        "created_at": _date(post.created_at),
        "updated_at": _date(post.updated_at),
        "published_at": _date(post.published_at),
    }


def _post_meta(post: models.Post, links: _Links) -> dict[str, Any]:
    return {
        "id": _id(post, "c"),
        "post_id": _id(post, "b"),
        "meta_title": post.meta_title,
        "meta_description": post.meta_description,
        "og_image": links(post.og_image),
        "feature_image_alt": post.feature_image_alt,
        "feature_image_caption": links(post.feature_image_caption),
    }


def _tag(tag: models.Tag, links: _Links) -> dict[str, Any]:
    return {
        "id": _id(tag, "d"),
        "name": tag.name,
        "slug": tag.slug,
        "description": tag.description,
        "feature_image": links(tag.feature_image),
        "visibility": tag.visibility.value,
        "meta_title": tag.meta_title,
        "meta_description": tag.meta_description,
        "created_at": _date(tag.created_at),
        "updated_at": _date(tag.updated_at),
    }


def _user(user: models.User, links: _Links) -> dict[str, Any]:
    return {
        "id": _id(user, "e"),
        "name": user.name,
        "slug": user.slug,
        "email": user.email,
        "profile_image": links(user.profile_image),
        "cover_image": links(user.cover_image),
        "bio": user.bio,
        "website": links(user.website),
        "location": user.location,
        "status": "inactive" if user.status is models.UserStatus.LOCKED else "active",
        "last_seen": _date(user.last_seen_at),
        "created_at": _date(user.created_at),
        "updated_at": _date(user.updated_at),
    }


def _settings(site: models.SiteSettings, links: _Links) -> list[dict[str, Any]]:
    values: dict[str, Any] = {
        "title": site.title,
        "description": site.description,
        "logo": links(site.logo),
        "icon": links(site.icon),
        "cover_image": links(site.cover_image),
        "accent_color": site.accent_color,
        "locale": site.locale,
        "timezone": site.timezone,
        "navigation": links(_json(site.navigation)),
        "secondary_navigation": links(_json(site.secondary_navigation)),
        "meta_title": site.meta_title,
        "meta_description": site.meta_description,
    }
    return [
        {"id": f"f{index:023x}", "key": key, "value": value}
        for index, (key, value) in enumerate(values.items(), start=1)
    ]


def _json(value: Any) -> str:
    return json.dumps(value or [], ensure_ascii=False)


def _link_rows(
    rows: Iterable[Any], post_ids: dict[int, str], other_ids: dict[int, str], key: str
) -> list[dict[str, Any]]:
    column = "tag_id" if key == "tag_id" else "author_id"
    return [
        {
            "id": f"{'9' if key == 'tag_id' else 'a'}{index:023x}",
            "post_id": post_ids[row.post_id],
            key: other_ids[getattr(row, column)],
            "sort_order": row.sort_order,
        }
        for index, row in enumerate(rows, start=1)
    ]


async def export_ghost(db: Database) -> dict[str, Any]:
    """The whole site as a Ghost export document ({"db": [{"meta", "data"}]})."""
    async with db.read_sessions() as session:
        site = await SiteSettingsRepository(session).get()
        links = _Links(site.url)
        users = list(await session.scalars(select(models.User).order_by(models.User.id)))
        tags = list(await session.scalars(select(models.Tag).order_by(models.Tag.id)))
        posts = list(await session.scalars(select(models.Post).order_by(models.Post.id)))
        order = (models.PostTag.post_id, models.PostTag.sort_order)
        post_tags = list(await session.scalars(select(models.PostTag).order_by(*order)))
        order = (models.PostAuthor.post_id, models.PostAuthor.sort_order)
        post_authors = list(await session.scalars(select(models.PostAuthor).order_by(*order)))
    post_ids = {post.id: _id(post, "b") for post in posts}
    user_ids = {user.id: _id(user, "e") for user in users}
    tag_ids = {tag.id: _id(tag, "d") for tag in tags}
    data = {
        "posts": [_post(post, links) for post in posts],
        "posts_meta": [_post_meta(post, links) for post in posts],
        "tags": [_tag(tag, links) for tag in tags],
        "posts_tags": _link_rows(post_tags, post_ids, tag_ids, "tag_id"),
        "users": [_user(user, links) for user in users],
        "roles": [{"id": ROLE_IDS[role], "name": name} for role, name in ROLE_NAMES.items()],
        "roles_users": [
            {"id": f"8{index:023x}", "role_id": ROLE_IDS[user.role], "user_id": user_ids[user.id]}
            for index, user in enumerate(users, start=1)
        ],
        "posts_authors": _link_rows(post_authors, post_ids, user_ids, "author_id"),
        "settings": _settings(site, links),
    }
    exported_on = int(utcnow().timestamp() * 1000)
    return {"db": [{"meta": {"exported_on": exported_on, "version": GHOST_VERSION}, "data": data}]}
