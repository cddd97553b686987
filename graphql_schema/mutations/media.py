"""Media: staff upload images (the GraphQL multipart request), describe them, set where crops
centre, and delete the ones no content uses."""

from __future__ import annotations

from typing import Annotated

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from graphql_schema.context import Info
from graphql_schema.ids import decode_id, to_global_id
from graphql_schema.mutations.common import (
    UserError,
    UserErrorCode,
    in_transaction,
    provided,
    require_staff,
    user_errors,
)
from graphql_schema.types.media import Media
from service.errors import Forbidden, InvalidInput
from service.media import library

What = strawberry.argument(description="What to do.")


@strawberry.input(description="A file to add to the library (GraphQL multipart request).")
class UploadMediaInput:
    file: Upload = strawberry.field(
        description="JPEG, PNG, GIF, WebP or AVIF, decided by its bytes (SVG is refused)."
    )
    alt: str | None = strawberry.field(
        default=None, description="Text for readers who cannot see it."
    )
    caption: str | None = strawberry.field(default=None, description="A caption.")


@strawberry.input(description="Where crops centre, as fractions of the width and height.")
class FocalPointInput:
    x: float = strawberry.field(description="0 (left) to 1 (right).")
    y: float = strawberry.field(description="0 (top) to 1 (bottom).")


@strawberry.input(description="Changes to a file's text or focal point; omitted ones stay.")
class UpdateMediaInput:
    id: strawberry.ID = strawberry.field(description="The file.")
    alt: str | None = strawberry.field(default=strawberry.UNSET, description="Alt text.")
    caption: str | None = strawberry.field(default=strawberry.UNSET, description="Caption.")
    focal_point: FocalPointInput | None = strawberry.field(
        default=strawberry.UNSET, description="Where crops centre (null: the middle)."
    )


@strawberry.input(description="The file to delete (refused while content uses it).")
class DeleteMediaInput:
    id: strawberry.ID = strawberry.field(description="The file.")


@strawberry.type(description="The result of uploadMedia.")
class UploadMediaPayload:
    media: Media | None = strawberry.field(
        description="The file (the one already in the library, for bytes uploaded before)."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing was stored.")


@strawberry.type(description="The result of updateMedia.")
class UpdateMediaPayload:
    media: Media | None = strawberry.field(description="The file after the change.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was written.")


@strawberry.type(description="The result of deleteMedia.")
class DeleteMediaPayload:
    deleted_id: strawberry.ID | None = strawberry.field(description="Id of the deleted file.")
    user_errors: list[UserError] = strawberry.field(description="Why nothing was deleted.")


@strawberry.type
class MediaMutations:
    @strawberry.mutation(description="Add an image to the library (any staff role).")
    async def upload_media(
        self, info: Info, input: Annotated[UploadMediaInput, What]
    ) -> UploadMediaPayload:
        # What the multipart parser hands over (Strawberry types it as bytes), closed at once
        # whatever follows: its spooled temporary file must not outlive the request.
        upload: object = input.file
        if not isinstance(upload, UploadFile):
            # A value in the JSON variables rather than a part of a multipart request.
            require_staff(info)
            problem = "Send the file as a part of a GraphQL multipart request."
            error = UserError(field=["input", "file"], message=problem, code=UserErrorCode.INVALID)
            return UploadMediaPayload(media=None, user_errors=[error])
        try:
            data = await upload.read()
        finally:
            await upload.close()
        actor = require_staff(info)
        files = info.context.media
        if files is None:
            raise Forbidden("Uploads are not enabled on this server.")
        try:
            prepared = await library.prepare(
                files.storage, actor, filename=upload.filename, data=data
            )
        except InvalidInput as error:
            return UploadMediaPayload(media=None, user_errors=user_errors(error))
        media, errors = await in_transaction(
            info,
            lambda session: library.add(
                session, actor, prepared, alt=input.alt, caption=input.caption
            ),
        )
        return UploadMediaPayload(
            media=None if media is None else Media.from_model(media), user_errors=errors
        )

    @strawberry.mutation(description="Change a file's alt text, caption or focal point.")
    async def update_media(
        self, info: Info, input: Annotated[UpdateMediaInput, What]
    ) -> UpdateMediaPayload:
        actor = require_staff(info)
        id = decode_id(input.id, "Media")
        changes = provided(input, ("alt", "caption"))
        if input.focal_point is not strawberry.UNSET:
            point = input.focal_point
            changes["focal_x"] = 0.5 if point is None else point.x
            changes["focal_y"] = 0.5 if point is None else point.y
        media, errors = await in_transaction(
            info, lambda session: library.update(session, actor, id, changes)
        )
        if media is not None and info.context.media is not None and "focal_x" in changes:
            await info.context.media.remove_crops(media)
        return UpdateMediaPayload(
            media=None if media is None else Media.from_model(media), user_errors=errors
        )

    @strawberry.mutation(description="Delete a file no content uses (editors, or its uploader).")
    async def delete_media(
        self, info: Info, input: Annotated[DeleteMediaInput, What]
    ) -> DeleteMediaPayload:
        actor = require_staff(info)
        id = decode_id(input.id, "Media")
        media, errors = await in_transaction(
            info, lambda session: library.delete(session, actor, id)
        )
        if media is not None and info.context.media is not None:
            await info.context.media.remove(media)
        deleted = None if errors else strawberry.ID(to_global_id("Media", id))
        return DeleteMediaPayload(deleted_id=deleted, user_errors=errors)
