"""The addresses of a file and of its sizes, and the `srcset` a frontend puts in <img>."""

from __future__ import annotations

from dataclasses import dataclass

from db import models
from service.media import images, presets

# GraphQL's ImageFormat names -> the extension to ask for ("ORIGINAL": the upload's own).
FORMAT_EXTENSIONS = {"WEBP": "webp", "AVIF": "avif", "JPEG": "jpg", "PNG": "png"}
LISTED_FORMATS = ("ORIGINAL", "WEBP", "AVIF")  # the sizes Media.sizes lists


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    format: str  # an ImageFormat name
    url: str


def original_url(base: str, media: models.Media) -> str:
    return f"{base}/media/{media.sha256}.{images.extension(media.format)}"


def size_url(base: str, media: models.Media, preset: presets.Preset, format: str) -> str:
    extension = FORMAT_EXTENSIONS.get(format) or images.extension(media.format)
    return f"{base}/media/{media.sha256}/{preset.name}.{extension}"


def sizes(base: str, media: models.Media) -> list[Size]:
    """Each preset narrower than the original (no size is ever scaled up), and the crops,
    in each listed format."""
    return [
        Size(preset.name, preset.width, format, size_url(base, media, preset, format))
        for preset in presets.PRESETS.values()
        if preset.height is not None or preset.width < media.width
        for format in LISTED_FORMATS
    ]


def srcset(base: str, media: models.Media, format: str) -> str:
    """`url 300w, url 600w, …` up to the image's own width (the original itself, or its
    widest size in another format)."""
    candidates = [
        f"{size_url(base, media, preset, format)} {preset.width}w"
        for preset in presets.WIDTHS
        if preset.width < media.width
    ]
    widest = presets.WIDTHS[-1]
    if format == "ORIGINAL" or FORMAT_EXTENSIONS[format] == images.extension(media.format):
        candidates.append(f"{original_url(base, media)} {media.width}w")
    elif media.width <= widest.width:
        # The widest preset renders at the original's own width (never scaled up).
        candidates.append(f"{size_url(base, media, widest, format)} {media.width}w")
    return ", ".join(candidates)
