"""Ghost's staff users and their roles, as Broadsheet users without passwords: each sets
one through the usual path (`broadsheet users set-password`, or a reset)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from service.errors import InvalidInput
from service.ghost.fields import Invalid, RowReader
from service.ghost.report import Entry, Outcome
from service.ghost.run import ImportRun, ghost_id, update_row
from service.ghost.slug_claims import SlugClaims
from service.slugs import is_valid_slug, slugify
from service.staff import MAX_BIO, normalise_email

Role = models.Role
ROLES = {
    "Owner": Role.OWNER,
    "Administrator": Role.ADMINISTRATOR,
    "Super Editor": Role.EDITOR,  # Ghost 5.x: an editor who also manages members
    "Editor": Role.EDITOR,
    "Author": Role.AUTHOR,
    "Contributor": Role.CONTRIBUTOR,
}
FIELDS = (
    "name",
    "slug",
    "email",
    "role",
    "status",
    "bio",
    "profile_image",
    "cover_image",
    "website",
    "location",
    "last_seen_at",
    "created_at",
    "updated_at",
    "ghost_id",
)


def _roles_by_user(run: ImportRun) -> dict[str, str]:
    roles = [role for role in run.export.rows("roles") if isinstance(role, dict)]
    names = {ghost_id(role.get("id")): role.get("name") for role in roles}
    by_user: dict[str, str] = {}
    for link in run.export.rows("roles_users"):
        if not isinstance(link, dict):
            continue
        user, name = ghost_id(link.get("user_id")), names.get(ghost_id(link.get("role_id")))
        if user and isinstance(name, str):
            by_user.setdefault(user, name)
    return by_user


def _fields(row: Any, run: ImportRun, role_name: str | None) -> tuple[dict[str, Any], list[str]]:
    read = RowReader(row, site_url=run.site_url)
    notes: list[str] = []
    values: dict[str, Any] = {"ghost_id": ghost_id(row.get("id"))}
    values["name"] = read.text("name", max_length=191, required=True)
    try:
        values["email"] = normalise_email(read.raw("email") or "")
    except InvalidInput as error:
        read.problem("email", str(error))
    slug = read.raw("slug") or slugify(values["name"] or "")
    if not is_valid_slug(slug):
        notes.append(f"slug {slug!r} is not a valid slug: made {slugify(slug)!r} of it")
        slug = slugify(slug)
    values["slug"] = slug
    role = ROLES.get(role_name or "")
    if role is None:
        notes.append(f"Ghost role {role_name!r} has no match: imported as a contributor")
        role = Role.CONTRIBUTOR
    values["role"] = role
    # Ghost's 'inactive' is a suspended account; 'locked' is what Ghost's own importer sets
    # until a password is chosen, which holds for every imported user here anyway.
    suspended = row.get("status") == "inactive"
    values["status"] = models.UserStatus.LOCKED if suspended else models.UserStatus.ACTIVE
    values["bio"] = read.text("bio", max_length=MAX_BIO)
    values["location"] = read.text("location", max_length=191)
    for key in ("profile_image", "cover_image", "website"):
        values[key] = read.url(key)
    values["last_seen_at"] = read.date("last_seen")
    values["created_at"] = read.date("created_at")
    values["updated_at"] = read.date("updated_at") or values["created_at"]
    read.done()
    return values, notes


async def import_users(session: AsyncSession, run: ImportRun) -> None:
    """Create or update the file's users; fill `run.users` and `run.owner_id`."""
    existing = list(await session.scalars(select(models.User)))
    by_ghost = {user.ghost_id: user for user in existing if user.ghost_id}
    by_email = {user.email.lower(): user for user in existing}
    by_slug = {user.slug: user for user in existing}
    slugs = SlugClaims((user.slug, user.id) for user in existing)
    emails: dict[str, Hashable] = {user.email.lower(): user.id for user in existing}
    owner = next((user for user in existing if user.role is Role.OWNER), None)
    roles = _roles_by_user(run)
    matched: set[int] = set()
    for index, row in enumerate(run.export.rows("users")):
        path = run.export.where("users", index)
        name = str(row.get("email") or row.get("slug") or "?") if isinstance(row, dict) else "?"
        try:
            role = roles.get(ghost_id(row.get("id")) or "") if isinstance(row, dict) else None
            values, notes = _fields(row, run, role)
        except Invalid as error:
            run.report.add(Entry(path, "user", name, "error", error.problems))
            continue
        gid = values["ghost_id"]
        if gid and gid in run.users:
            run.report.add(Entry(path, "user", name, "skip", [f"id {gid} appears twice"]))
            continue
        user = by_ghost.get(gid) or by_email.get(values["email"].lower())
        user = user or by_slug.get(values["slug"])
        if user is not None and (user.id in matched or (user.ghost_id not in (None, gid))):
            user = None
        who = user.id if user is not None else path
        if emails.get(values["email"].lower(), who) != who:
            problem = f"email {values['email']} belongs to another user"
            run.report.add(Entry(path, "user", name, "error", [problem]))
            continue
        wanted = values["slug"]
        values["slug"] = slugs.claim(wanted, who=who, current=user.slug if user else None)
        if values["slug"] != wanted:
            notes.append(f"slug {wanted!r} is taken: imported as {values['slug']!r}")
        emails[values["email"].lower()] = who
        _settle_owner(values, user, owner, notes)
        if user is None:
            user = models.User(**{k: v for k, v in values.items() if v is not None})
            user.password_hash = None
            session.add(user)
            await session.flush()
            outcome: Outcome = "create"
        else:
            matched.add(user.id)
            outcome = _update(user, values)
        if user.role is Role.OWNER:
            owner = user
        if gid:
            run.users[gid] = user.id
        run.report.add(Entry(path, "user", values["email"], outcome, notes))
    run.owner_id = owner.id if owner is not None else None


def _settle_owner(
    values: dict[str, Any],
    user: models.User | None,
    owner: models.User | None,
    notes: list[str],
) -> None:
    """Broadsheet has exactly one owner: an import never takes that role from anyone."""
    if user is not None and user.role is Role.OWNER and values["role"] is not Role.OWNER:
        notes.append("is this site's owner: kept as owner")
        values["role"] = Role.OWNER
    elif values["role"] is Role.OWNER and owner is not None and owner is not user:
        notes.append(f"this site's owner is {owner.email}: imported as an administrator")
        values["role"] = Role.ADMINISTRATOR


def _update(user: models.User, values: dict[str, Any]) -> Outcome:
    if user.role is not values["role"]:
        user.token_version += 1  # as any role change: tokens with the old role stop working
    return update_row(user, values, FIELDS)
