"""What an uploaded file is, decided by its bytes, and the sizes made from it (Pillow).

An upload is decoded in full, turned upright (its EXIF orientation applied) and encoded
again in its own format: what is stored carries no metadata (EXIF, GPS, XMP, comments) and
nothing a polyglot file hid after or inside the image. The ICC colour profile stays: without
it, wide-gamut photos change colour. SVG is refused: a sanitiser for it is a project of its
own, and scripts in an image served from the API's origin are not worth the risk.

CPU-heavy and blocking: callers run these in a worker thread (service.offload)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import InvalidInput

# Pillow format -> (our name, MIME type, file extension).
FORMATS = {
    "JPEG": ("jpeg", "image/jpeg", "jpg"),
    "PNG": ("png", "image/png", "png"),
    "GIF": ("gif", "image/gif", "gif"),
    "WEBP": ("webp", "image/webp", "webp"),
    "AVIF": ("avif", "image/avif", "avif"),
}
BY_NAME = {name: pillow for pillow, (name, _, _) in FORMATS.items()}
MAX_PIXELS = 50_000_000  # a 100-megapixel PNG is refused before it is decoded
# Our own limit, checked in normalise() from the header, replaces Pillow's (a warning below
# 179 megapixels, which would otherwise reach the log, or an error, with no clear message).
Image.MAX_IMAGE_PIXELS = None
MAX_FRAME_PIXELS = 200_000_000  # all frames of an animation together
# Encoder settings: the stored original near-lossless, sizes smaller.
ORIGINAL_QUALITY = {"JPEG": 92, "WEBP": 90, "AVIF": 80}
SIZE_QUALITY = {"JPEG": 82, "WEBP": 80, "AVIF": 60}
UNREADABLE = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    OSError,
    SyntaxError,
    ValueError,
)


@dataclass(frozen=True)
class Picture:
    """An image as stored."""

    data: bytes
    format: str  # our name: jpeg, png, gif, webp, avif
    width: int
    height: int

    @property
    def mime_type(self) -> str:
        return FORMATS[BY_NAME[self.format]][1]

    @property
    def extension(self) -> str:
        return extension(self.format)


def extension(format: str) -> str:
    """The file extension of a format (our name): jpeg -> jpg."""
    return FORMATS[BY_NAME[format]][2]


def refused(message: str, code: str = "INVALID") -> InvalidInput:
    return InvalidInput.one(message, code=code, field=("file",))


def normalise(data: bytes) -> Picture:
    """The upload as it will be stored; InvalidInput when it is not an image we take."""
    if not data:
        raise refused("The file is empty.", "REQUIRED")
    try:
        with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
            width, height = image.size  # read from the header: nothing decoded yet
            if width * height > MAX_PIXELS:
                raise refused(
                    f"The image is {width}x{height} pixels; at most "
                    f"{MAX_PIXELS // 1_000_000} megapixels are accepted.",
                    "TOO_LONG",
                )
            frames = getattr(image, "n_frames", 1)
            if frames * width * height > MAX_FRAME_PIXELS:
                raise refused("The animation has too many frames for its size.", "TOO_LONG")
            pillow_format = image.format
            assert pillow_format in FORMATS  # `formats=` admits no other
            image.load()  # decodes it all: a truncated file fails here
            return _encode_original(image, pillow_format)
    except InvalidInput:
        raise
    except UNREADABLE as error:
        raise refused(
            "Not a readable image: upload a JPEG, PNG, GIF, WebP or AVIF file "
            f"({type(error).__name__})."
        ) from None


def _encode_original(image: Image.Image, pillow_format: str) -> Picture:
    animated = getattr(image, "n_frames", 1) > 1
    options: dict[str, Any] = {}
    if animated:
        options["save_all"] = True  # frames, durations and loop count come along
        upright = image
    else:
        upright = ImageOps.exif_transpose(image)  # applies the orientation, drops the tag
    if pillow_format == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    profile = image.info.get("icc_profile")
    if profile:
        options["icc_profile"] = profile
    if pillow_format in ORIGINAL_QUALITY:
        options["quality"] = ORIGINAL_QUALITY[pillow_format]
    out = io.BytesIO()
    upright.save(out, pillow_format, **options)
    return Picture(out.getvalue(), FORMATS[pillow_format][0], upright.width, upright.height)


def render(
    original: bytes,
    *,
    width: int,
    height: int | None,
    format: str,
    focal: tuple[float, float] = (0.5, 0.5),
) -> Picture:
    """A size of a stored original: `width` wide (never wider than the original), or cropped
    to `width`x`height` around the focal point; in `format` (our name). The first frame of
    an animation."""
    with Image.open(io.BytesIO(original)) as opened:
        image: Image.Image = opened
        target = (width, height or max(1, round(image.height * width / image.width)))
        # JPEG decodes at 1/2, 1/4 or 1/8 scale when asked: a 24-megapixel photo made
        # 1000 wide never exists in memory at full size.
        opened.draft("RGB", target)
        opened.load()
        if height is None:
            if width < image.width:
                image = image.resize(target, Image.Resampling.LANCZOS)
        else:
            image = ImageOps.fit(image, target, Image.Resampling.LANCZOS, centering=focal)
        pillow_format = BY_NAME[format]
        if pillow_format == "JPEG" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        elif pillow_format != "GIF" and image.mode == "P":
            image = image.convert("RGBA")
        options: dict[str, Any] = {}
        if pillow_format in SIZE_QUALITY:
            options["quality"] = SIZE_QUALITY[pillow_format]
        profile = image.info.get("icc_profile")
        if profile:
            options["icc_profile"] = profile
        out = io.BytesIO()
        image.save(out, pillow_format, **options)
        return Picture(out.getvalue(), format, image.width, image.height)
