"""Slugs: readable, transliterated, lower-case, hyphenated identifiers for URLs."""

from __future__ import annotations

import re

from slugify import slugify as _slugify

MAX_SLUG_LENGTH = 185
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str) -> str:
    """`Déjà Vu: an Essay` → `deja-vu-an-essay`; falls back to 'untitled' when nothing is left."""
    return _slugify(text, max_length=MAX_SLUG_LENGTH, word_boundary=True) or "untitled"


def is_valid_slug(slug: str) -> bool:
    return len(slug) <= MAX_SLUG_LENGTH and SLUG_PATTERN.fullmatch(slug) is not None
