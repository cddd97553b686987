"""Markdown to sanitised HTML, and what derives from it: plaintext, excerpt, reading time."""

from __future__ import annotations

import html as html_lib
import math
import re
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt

WORDS_PER_MINUTE = 275
EXCERPT_LENGTH = 300

# CommonMark plus GFM tables and strikethrough; raw HTML is allowed in, then sanitised.
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
    ["table", "strikethrough"]
)
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"figure", "figcaption", "video", "audio", "source"}
_ALLOWED_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "a": {"href", "title"},
    "video": {"src", "controls", "poster", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
    "code": {"class"},
}
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|blockquote|pre|tr|figure|figcaption)>|<br\s*/?>")
_WHITESPACE = re.compile(r"\s+")


# Raw HTML nested deeper than this is refused: sanitising is quadratic in the nesting (20,000
# unclosed <div>s take three seconds), and no article nests a hundred elements deep.
MAX_HTML_NESTING = 100
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)\b[^<>]*?(/?)>")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr"}
)  # fmt: skip


def html_nesting(text: str) -> int:
    """How deep the raw HTML tags in `text` nest, counting every tag left open."""
    depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(text):
        if name.lower() in _VOID or self_closing:
            continue
        depth = max(depth - 1, 0) if closing else depth + 1
        deepest = max(deepest, depth)
    return deepest


@dataclass(frozen=True)
class Rendered:
    html: str
    plaintext: str
    reading_time: int


def sanitise(html: str) -> str:
    """Remove scripts, event handlers and links to anything but http(s), mailto and tel."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )


def to_plaintext(html: str) -> str:
    """The text of `html`, one line per block."""
    with_breaks = _BLOCK_END.sub(lambda m: m.group(0) + "\n", html)
    text = html_lib.unescape(nh3.clean(with_breaks, tags=set()))
    lines = (_WHITESPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def reading_time(plaintext: str) -> int:
    """Minutes to read, rounded up; zero only for an empty body."""
    words = len(plaintext.split())
    return math.ceil(words / WORDS_PER_MINUTE) if words else 0


def render_markdown(markdown: str | None) -> Rendered:
    """Render `markdown` to sanitised HTML with its plaintext and reading time."""
    html = sanitise(_markdown.render(markdown or ""))
    plaintext = to_plaintext(html)
    return Rendered(html=html, plaintext=plaintext, reading_time=reading_time(plaintext))


def excerpt(*, custom_excerpt: str | None, plaintext: str | None) -> str | None:
    """The custom excerpt, else the start of the body cut at a word boundary."""
    if custom_excerpt:
        return custom_excerpt
    if not plaintext:
        return None
    flat = _WHITESPACE.sub(" ", plaintext).strip()
    if len(flat) <= EXCERPT_LENGTH:
        return flat
    cut = flat[:EXCERPT_LENGTH].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"
