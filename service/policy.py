"""The permission policy: who may see what, as statement filters repositories apply.

One module decides for REST and GraphQL. Reading rules live here as where-clauses, so rows a
caller may not see are simply not found (NOT_FOUND, never FORBIDDEN, for things they cannot see).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, exists, or_, select, true

from db import models
from db.base import utcnow
from db.repositories import Scope

Post = models.Post
Role = models.Role
EDITORIAL_ROLES = frozenset({Role.OWNER, Role.ADMINISTRATOR, Role.EDITOR})


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a staff user (id and role), an integration's API key, or nobody.
    An ADMIN-scoped key has the administrator role and no user; a CONTENT key has no role."""

    user_id: int | None = None
    role: Role | None = None
    api_key_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role is not None


ANONYMOUS = Viewer()


def public_posts(now: datetime) -> ColumnElement[bool]:
    """Published, and its time has come (a scheduled post becomes public when due)."""
    # (A hybrid's SQL side is typed as the operations every expression has.)
    return cast(ColumnElement[bool], Post.is_public_at(now))


def is_public(post: models.Post, now: datetime) -> bool:
    """`public_posts` for a loaded row: what an anonymous reader sees of it at `now`."""
    return post.is_public_at(now)


def authored_by(user_id: int) -> ColumnElement[bool]:
    return exists(
        select(models.PostAuthor.post_id).where(
            models.PostAuthor.post_id == Post.id, models.PostAuthor.author_id == user_id
        )
    )


def read_scope(viewer: Viewer, *, now: datetime | None = None) -> Scope:
    """What `viewer` may read at `now`: the filters every repository statement carries."""
    now = utcnow() if now is None else now
    if viewer.role in EDITORIAL_ROLES:
        return Scope(posts=true(), tags=true(), authors=true(), now=now)
    if viewer.user_id is not None:
        # Authors and contributors see everything public, plus their own drafts and schedules.
        posts = or_(public_posts(now), authored_by(viewer.user_id))
        return Scope(posts=posts, tags=true(), authors=true(), now=now)
    posts = public_posts(now)
    return Scope(
        posts=posts,
        tags=models.Tag.visibility == models.TagVisibility.PUBLIC,
        authors=has_visible_content(posts),
        now=now,
    )


def read_scope_is_public(viewer: Viewer) -> bool:
    """Whether `viewer` reads exactly what an anonymous reader does (a CONTENT API key)."""
    return not viewer.is_staff and viewer.user_id is None


def preview_scope(scope: Scope, *, post_id: int) -> Scope:
    """A preview token lets its holder read that one post or page, whatever its status."""
    return Scope(posts=Post.id == post_id, tags=scope.tags, authors=scope.authors, now=scope.now)


def has_visible_content(posts: ColumnElement[bool]) -> ColumnElement[bool]:
    """Authors are public once they are credited on a post or page the caller can see: an
    author shown on anything the caller reads can be looked up, listed and resolved by id."""
    return exists(
        select(models.PostAuthor.post_id)
        .join(Post, Post.id == models.PostAuthor.post_id)
        .where(models.PostAuthor.author_id == models.User.id, posts)
    )


def may_read_staff(viewer: Viewer) -> bool:
    """Staff profiles (emails, roles) are for staff only."""
    return viewer.is_staff


def may_read_markdown(viewer: Viewer) -> bool:
    """Markdown source and revisions are for staff only."""
    return viewer.is_staff


# --- staff management ----------------------------------------------------------------------

ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMINISTRATOR})
WRITER_ROLES = frozenset({Role.AUTHOR, Role.CONTRIBUTOR})


def may_manage_user(viewer: Viewer, target_role: Role) -> bool:
    """Administrators manage everyone but the owner; editors manage authors and contributors."""
    if viewer.role in ADMIN_ROLES:
        return target_role is not Role.OWNER
    if viewer.role is Role.EDITOR:
        return target_role in WRITER_ROLES
    return False


def may_edit_profile(viewer: Viewer, target: models.User) -> bool:
    return (viewer.user_id is not None and viewer.user_id == target.id) or may_manage_user(
        viewer, target.role
    )


def may_manage_api_keys(viewer: Viewer) -> bool:
    return viewer.role in ADMIN_ROLES


def may_manage_webhooks(viewer: Viewer) -> bool:
    """Webhooks, their secrets and delivery log are for administrators (and ADMIN keys)."""
    return viewer.role in ADMIN_ROLES


# --- content -------------------------------------------------------------------------------


def is_editorial(viewer: Viewer) -> bool:
    return viewer.role in EDITORIAL_ROLES


def may_create_content(viewer: Viewer, type: models.PostType) -> bool:
    """Every staff role may draft posts; pages are for editors and up."""
    if type is models.PostType.PAGE:
        return is_editorial(viewer)
    return viewer.is_staff


def may_edit_content(viewer: Viewer, post: models.Post, author_ids: list[int]) -> bool:
    """Editors and up: everything. Authors: their own posts. Contributors: their own drafts.
    Pages are for editors and up only, whoever is credited on them."""
    if is_editorial(viewer):
        return True
    if post.type is models.PostType.PAGE:
        return False
    own = viewer.user_id is not None and viewer.user_id in author_ids
    if viewer.role is Role.AUTHOR:
        return own
    if viewer.role is Role.CONTRIBUTOR:
        return own and post.status is models.PostStatus.DRAFT
    return False


def may_publish(viewer: Viewer, post: models.Post, author_ids: list[int]) -> bool:
    """Contributors never publish; authors publish their own posts; editors anything."""
    if is_editorial(viewer):
        return True
    own = viewer.user_id is not None and viewer.user_id in author_ids
    return viewer.role is Role.AUTHOR and own and post.type is models.PostType.POST


def may_set_authors(viewer: Viewer, author_ids: list[int]) -> bool:
    """Only editors and up credit other people."""
    return is_editorial(viewer) or author_ids == [viewer.user_id]


def may_create_tags(viewer: Viewer) -> bool:
    return is_editorial(viewer) or viewer.role is Role.AUTHOR


def may_manage_tags(viewer: Viewer) -> bool:
    return is_editorial(viewer)


def may_update_settings(viewer: Viewer) -> bool:
    return viewer.role in ADMIN_ROLES


# --- media ---------------------------------------------------------------------------------


def may_upload_media(viewer: Viewer) -> bool:
    """Every staff role uploads (a contributor's draft needs its images too)."""
    return viewer.is_staff


def may_change_media(viewer: Viewer, media: models.Media) -> bool:
    """Editors and up change and delete any file; others the files they uploaded."""
    own = viewer.user_id is not None and viewer.user_id == media.uploaded_by
    return is_editorial(viewer) or (viewer.is_staff and own)
