"""Staff accounts: the rules for creating, changing and deleting them, and for passwords."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from db import models
from db.base import utcnow
from db.repositories.credentials import RefreshTokenRepository
from db.repositories.users import StaffWriter
from service import events, policy
from service.errors import Forbidden, InvalidInput, NotFound, Problem
from service.passwords import check_new_password, hash_password, verify_password
from service.policy import Viewer
from service.slugs import is_valid_slug, slugify
from service.validation import camel

Role = models.Role
MAX_NAME = 191
MAX_BIO = 2000
MAX_URL = 2000


def normalise_email(email: str, *, field: str = "email") -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidInput.one(str(error), field=[field]) from None


def check_name(name: str, *, field: str = "name") -> str:
    name = name.strip()
    if not name:
        raise InvalidInput.one("A name is required.", code="REQUIRED", field=[field])
    if len(name) > MAX_NAME:
        raise InvalidInput.one(f"At most {MAX_NAME} characters.", code="TOO_LONG", field=[field])
    return name


async def unique_slug(writer: StaffWriter, base: str, *, except_id: int | None = None) -> str:
    slug = slugify(base)
    candidate, n = slug, 1
    while await writer.slug_taken(candidate, except_id=except_id):
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


async def create_user(
    writer: StaffWriter, *, email: str, name: str, role: Role, password: str
) -> models.User:
    """Create an account (the caller has checked the actor may)."""
    problems: list[Problem] = []
    for check in (
        lambda: normalise_email(email),
        lambda: check_name(name),
        lambda: check_new_password(password),
    ):
        try:
            check()
        except InvalidInput as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems)
    email = normalise_email(email)
    if await writer.email_taken(email):
        raise InvalidInput.one("A user with this email exists.", code="TAKEN", field=["email"])
    name = check_name(name)
    return await writer.add(
        models.User(
            email=email,
            name=name,
            slug=await unique_slug(writer, name),
            role=role,
            status=models.UserStatus.ACTIVE,
            password_hash=await hash_password(password),
        )
    )


def check_may_create(actor: Viewer, role: Role) -> None:
    if role is Role.OWNER:
        raise Forbidden("There is exactly one owner.")
    if not policy.may_manage_user(actor, role):
        raise Forbidden(f"You may not create {role.value} accounts.")


@dataclass
class ProfileChanges:
    name: str | None = None
    slug: str | None = None
    email: str | None = None
    role: Role | None = None
    status: models.UserStatus | None = None
    bio: str | None = None
    website: str | None = None
    location: str | None = None
    profile_image: str | None = None


async def update_user(
    writer: StaffWriter, actor: Viewer, user_id: int, changes: ProfileChanges
) -> models.User:
    user = await writer.get_for_update(user_id)
    if user is None or not actor.is_staff:
        raise NotFound
    if not policy.may_edit_profile(actor, user):
        raise Forbidden("You may not change this user.")
    access_changes = changes.role is not None or changes.status is not None
    if access_changes:
        if user.role is Role.OWNER:
            raise Forbidden("The owner cannot be demoted or locked.")
        if actor.user_id == user.id:
            raise Forbidden("You cannot change your own role or status.")
        if not policy.may_manage_user(actor, user.role):
            raise Forbidden("You may not change this user's role or status.")
        if changes.role is not None and (
            changes.role is Role.OWNER or not policy.may_manage_user(actor, changes.role)
        ):
            raise Forbidden(f"You may not give the {changes.role.value} role.")

    profile = events.snapshot(user, events.AUTHOR_FIELDS)
    problems: list[Problem] = []
    if changes.name is not None:
        try:
            user.name = check_name(changes.name)
        except InvalidInput as error:
            problems.extend(error.problems)
    if changes.slug is not None:
        if not is_valid_slug(changes.slug):
            problems.append(Problem("Use lower-case letters, digits and hyphens.", field=["slug"]))
        elif await writer.slug_taken(changes.slug, except_id=user.id):
            problems.append(Problem("This slug is taken.", code="TAKEN", field=["slug"]))
        else:
            user.slug = changes.slug
    if changes.email is not None:
        try:
            email = normalise_email(changes.email)
            if await writer.email_taken(email, except_id=user.id):
                problems.append(Problem("A user with this email exists.", "TAKEN", ["email"]))
            user.email = email
        except InvalidInput as error:
            problems.extend(error.problems)
    for attribute, limit in (
        ("bio", MAX_BIO),
        ("website", MAX_URL),
        ("location", MAX_NAME),
        ("profile_image", MAX_URL),
    ):
        value = getattr(changes, attribute)
        if value is None:
            continue
        if len(value) > limit:
            problems.append(Problem(f"At most {limit} characters.", "TOO_LONG", [camel(attribute)]))
        elif attribute in ("website", "profile_image") and value and not _is_http_url(value):
            problems.append(Problem("Use an http(s) URL.", field=[camel(attribute)]))
        else:
            setattr(user, attribute, value or None)
    if problems:
        raise InvalidInput(problems)
    if changes.role is not None and changes.role is not user.role:
        user.role = changes.role
        await invalidate_sessions(writer, user)
    if changes.status is not None and changes.status is not user.status:
        user.status = changes.status
        await invalidate_sessions(writer, user)
    events.author_changed(writer.session, user, profile)
    await writer.session.flush()
    return user


async def delete_user(writer: StaffWriter, actor: Viewer, user_id: int) -> None:
    user = await writer.get_for_update(user_id)
    if user is None or not actor.is_staff:
        raise NotFound
    if user.role is Role.OWNER:
        raise Forbidden("The owner cannot be deleted.")
    if actor.user_id == user.id:
        raise Forbidden("You cannot delete your own account.")
    if not policy.may_manage_user(actor, user.role):
        raise Forbidden("You may not delete this user.")
    owner = await writer.owner()
    if owner is None:
        raise Forbidden("The site has no owner to receive the posts.")
    await writer.delete(user, posts_to=owner.id)
    events.author_deleted(writer.session, user, posts_to=owner.id)


async def change_password(
    writer: StaffWriter, actor: Viewer, *, current: str, new: str
) -> models.User:
    if actor.user_id is None:
        raise Forbidden("Only a signed-in user has a password.")
    user = await writer.get_for_update(actor.user_id)
    if user is None:
        raise NotFound
    if not await verify_password(current, user.password_hash):
        raise InvalidInput.one("The current password is wrong.", field=["currentPassword"])
    check_new_password(new, field="newPassword")
    await set_password(writer, user, new)
    return user


async def set_password(writer: StaffWriter, user: models.User, password: str) -> None:
    """Store a new password hash and end every session the user had."""
    user.password_hash = await hash_password(password)
    await invalidate_sessions(writer, user)


async def invalidate_sessions(writer: StaffWriter, user: models.User) -> None:
    """Access tokens carry the token version, so bumping it ends them; refresh tokens go too."""
    user.token_version += 1
    await RefreshTokenRepository(writer.session).revoke_user(user.id, now=utcnow())
    await writer.session.flush()


def _is_http_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))
