"""The sizes a frontend may ask for: named presets only, so no request can make the server
render an arbitrary size (Vendure's rule). Each in any of a few formats: at most
len(PRESETS) x len(EXTENSIONS) files per image, made on first request and kept.

Names in storage and in URLs (service/media/urls.py):
    originals/<sha256>.<ext>           the upload as stored
    sizes/<sha256>/<preset>.<ext>      a preset in a format"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    width: int
    height: int | None = None  # set: cropped to widthxheight around the focal point


PRESETS = {
    preset.name: preset
    for preset in (
        Preset("w300", 300),
        Preset("w600", 600),
        Preset("w1000", 1000),
        Preset("w2000", 2000),
        Preset("square300", 300, 300),
    )
}
WIDTHS = [preset for preset in PRESETS.values() if preset.height is None]
# Extension -> our format name; "original" is the upload's own.
EXTENSIONS = {"jpg": "jpeg", "png": "png", "gif": "gif", "webp": "webp", "avif": "avif"}
SHA256 = re.compile(r"[0-9a-f]{64}")


def original_key(sha256: str, extension: str) -> str:
    return f"originals/{sha256}.{extension}"


def size_key(sha256: str, preset: Preset, extension: str) -> str:
    return f"sizes/{sha256}/{preset.name}.{extension}"


@dataclass(frozen=True)
class Asked:
    """A media path a client asked for, understood."""

    sha256: str
    extension: str
    preset: Preset | None  # None: the original

    @property
    def key(self) -> str:
        if self.preset is None:
            return original_key(self.sha256, self.extension)
        return size_key(self.sha256, self.preset, self.extension)


def parse(path: str) -> Asked | None:
    """`<sha256>.<ext>` or `<sha256>/<preset>.<ext>`; None for anything else (a 404), so
    no name a client sends reaches storage unchecked."""
    head, _, tail = path.partition("/")
    if not tail:
        sha256, _, extension = head.partition(".")
        preset = None
    else:
        sha256 = head
        name, _, extension = tail.partition(".")
        preset = PRESETS.get(name)
        if preset is None:
            return None
    if not SHA256.fullmatch(sha256) or extension not in EXTENSIONS:
        return None
    return Asked(sha256, extension, preset)
