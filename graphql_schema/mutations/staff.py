"""Staff accounts and passwords."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.repositories.users import StaffWriter
from graphql_schema.context import Info
from graphql_schema.ids import decode_id, to_global_id
from graphql_schema.mutations.common import UserError, in_transaction, require_staff
from graphql_schema.types.enums import Role, UserStatus
from graphql_schema.types.user import StaffUser
from service import staff


@strawberry.input(description="A new staff account.")
class CreateUserInput:
    email: str = strawberry.field(description="Sign-in email, unique.")
    name: str = strawberry.field(description="Display name.")
    role: Role = strawberry.field(description="Role (not OWNER).")
    password: str = strawberry.field(description="At least 10 characters, not a common one.")


@strawberry.input(description="Changes to a staff account; omitted fields stay as they are.")
class UpdateUserInput:
    id: strawberry.ID = strawberry.field(description="The StaffUser (or Author) id.")
    name: str | None = strawberry.field(default=None, description="Display name.")
    slug: str | None = strawberry.field(default=None, description="Author profile slug.")
    email: str | None = strawberry.field(default=None, description="Sign-in email.")
    role: Role | None = strawberry.field(default=None, description="New role.")
    status: UserStatus | None = strawberry.field(default=None, description="ACTIVE or LOCKED.")
    bio: str | None = strawberry.field(default=None, description="Short biography.")
    website: str | None = strawberry.field(default=None, description="Personal website.")
    location: str | None = strawberry.field(default=None, description="Where they are based.")
    profile_image: str | None = strawberry.field(default=None, description="Portrait URL.")


@strawberry.input(description="The staff account to delete; its posts pass to the owner.")
class DeleteUserInput:
    id: strawberry.ID = strawberry.field(description="The StaffUser id.")


@strawberry.input(description="A new password for the signed-in user.")
class ChangePasswordInput:
    current_password: str = strawberry.field(description="The password in use now.")
    new_password: str = strawberry.field(description="At least 10 characters.")


@strawberry.type(description="The result of createUser.")
class CreateUserPayload:
    user: StaffUser | None = strawberry.field(description="The new account.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of updateUser.")
class UpdateUserPayload:
    user: StaffUser | None = strawberry.field(description="The account after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of deleteUser.")
class DeleteUserPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="Id of the deleted account.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted.")


@strawberry.type(description="The result of changePassword; sign in again afterwards.")
class ChangePasswordPayload:
    user: StaffUser | None = strawberry.field(description="The account.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was changed.")


def _user_id(global_id: strawberry.ID) -> int:
    """Accept the StaffUser id or the Author id of the same person."""
    from graphql_schema.ids import parse_global_id

    type_name, _ = parse_global_id(global_id)
    return decode_id(global_id, "Author" if type_name == "Author" else "StaffUser")


@strawberry.type
class StaffMutations:
    @strawberry.mutation(
        description="Create a staff account (administrators; editors for authors and contributors)."
    )
    async def create_user(
        self,
        info: Info,
        input: Annotated[CreateUserInput, strawberry.argument(description="What to do.")],
    ) -> CreateUserPayload:
        actor = require_staff(info)
        staff.check_may_create(actor, input.role)
        user, errors = await in_transaction(
            info,
            lambda session: staff.create_user(
                StaffWriter(session),
                email=input.email,
                name=input.name,
                role=input.role,
                password=input.password,
            ),
        )
        return CreateUserPayload(
            user=None if user is None else StaffUser.from_model(user), user_errors=errors
        )

    @strawberry.mutation(
        description="Change a staff account: your own profile, or those you manage."
    )
    async def update_user(
        self,
        info: Info,
        input: Annotated[UpdateUserInput, strawberry.argument(description="What to do.")],
    ) -> UpdateUserPayload:
        actor = require_staff(info)
        changes = staff.ProfileChanges(
            name=input.name,
            slug=input.slug,
            email=input.email,
            role=input.role,
            status=input.status,
            bio=input.bio,
            website=input.website,
            location=input.location,
            profile_image=input.profile_image,
        )
        user_id = _user_id(input.id)
        user, errors = await in_transaction(
            info, lambda session: staff.update_user(StaffWriter(session), actor, user_id, changes)
        )
        return UpdateUserPayload(
            user=None if user is None else StaffUser.from_model(user), user_errors=errors
        )

    @strawberry.mutation(description="Delete a staff account; the owner cannot be deleted.")
    async def delete_user(
        self,
        info: Info,
        input: Annotated[DeleteUserInput, strawberry.argument(description="What to do.")],
    ) -> DeleteUserPayload:
        actor = require_staff(info)
        user_id = _user_id(input.id)
        _, errors = await in_transaction(
            info, lambda session: staff.delete_user(StaffWriter(session), actor, user_id)
        )
        deleted = None if errors else strawberry.ID(to_global_id("StaffUser", user_id))
        return DeleteUserPayload(deleted_id=deleted, user_errors=errors)

    @strawberry.mutation(description="Change your own password; every session you had ends.")
    async def change_password(
        self,
        info: Info,
        input: Annotated[ChangePasswordInput, strawberry.argument(description="What to do.")],
    ) -> ChangePasswordPayload:
        actor = require_staff(info)
        user, errors = await in_transaction(
            info,
            lambda session: staff.change_password(
                StaffWriter(session),
                actor,
                current=input.current_password,
                new=input.new_password,
            ),
        )
        return ChangePasswordPayload(
            user=None if user is None else StaffUser.from_model(user), user_errors=errors
        )
