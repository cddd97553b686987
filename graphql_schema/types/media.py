"""Uploaded images, as staff see them in the library and frontends use them: a URL per size
and format, and the `srcset` for <img>."""

from __future__ import annotations

import enum
from typing import Annotated, Self

import strawberry

from db import models
from graphql_schema.context import Info
from graphql_schema.ids import to_global_id
from graphql_schema.types.enums import described
from graphql_schema.types.node import Node
from service.media import urls


@strawberry.enum(description="An image format to ask for.")
class ImageFormat(enum.Enum):
    ORIGINAL = "ORIGINAL"
    WEBP = "WEBP"
    AVIF = "AVIF"
    JPEG = "JPEG"
    PNG = "PNG"


described(
    ImageFormat,
    {
        "ORIGINAL": "The format it was uploaded in.",
        "WEBP": "WebP: smaller than JPEG and PNG, read by every current browser.",
        "AVIF": "AVIF: smaller still; offer it first, with a fallback (<picture>).",
        "JPEG": "JPEG (transparency becomes black: prefer PNG or WebP for such images).",
        "PNG": "PNG, lossless.",
    },
)


@strawberry.type(description="One preset size of an image, in one format.")
class MediaSize:
    name: str = strawberry.field(description="The preset: w300, w600, w1000, w2000, square300.")
    width: int = strawberry.field(description="Its width in pixels.")
    format: ImageFormat = strawberry.field(description="Its format.")
    url: str = strawberry.field(description="Where it is served (made on first request).")


@strawberry.type(description="An uploaded image (staff see the library; anyone the files).")
class Media(Node):
    filename: str = strawberry.field(description="The name it was uploaded with.")
    mime_type: str = strawberry.field(description="image/jpeg, image/png, ... (from its bytes).")
    bytes: int = strawberry.field(description="Size of the stored file.")
    width: int | None = strawberry.field(description="In pixels, upright.")
    height: int | None = strawberry.field(description="In pixels, upright.")
    alt: str | None = strawberry.field(description="Text for readers who cannot see it.")
    caption: str | None = strawberry.field(description="A caption to show with it.")
    focal_x: float = strawberry.field(description="Where crops centre, 0 (left) to 1 (right).")
    focal_y: float = strawberry.field(description="Where crops centre, 0 (top) to 1 (bottom).")
    model: strawberry.Private[models.Media]

    @classmethod
    def from_model(cls, media: models.Media) -> Self:
        return cls(
            id=strawberry.ID(to_global_id("Media", media.id)),
            filename=media.filename,
            mime_type=media.mime_type,
            bytes=media.bytes,
            width=media.width,
            height=media.height,
            alt=media.alt,
            caption=media.caption,
            focal_x=media.focal_x,
            focal_y=media.focal_y,
            model=media,
        )

    @strawberry.field(description="The image as uploaded (upright, without metadata).")
    def url(self, info: Info) -> str:
        return urls.original_url(info.context.media_base(), self.model)

    @strawberry.field(description="Every preset narrower than the image, in each format.")
    def sizes(self, info: Info) -> list[MediaSize]:
        return [
            MediaSize(name=s.name, width=s.width, format=ImageFormat(s.format), url=s.url)
            for s in urls.sizes(info.context.media_base(), self.model)
        ]

    @strawberry.field(description="`url 300w, url 600w, ...` for <img srcset>, in one format.")
    def srcset(
        self,
        info: Info,
        format: Annotated[
            ImageFormat, strawberry.argument(description="The format of every candidate.")
        ] = ImageFormat.ORIGINAL,
    ) -> str:
        return urls.srcset(info.context.media_base(), self.model, format.value)
