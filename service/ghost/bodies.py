"""Ghost's post bodies as Markdown: from its html, or from a Lexical (Ghost 5) or Mobiledoc
(Ghost 1 to 4) document when there is no html; and the Lexical document an export writes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from markdownify import MarkdownConverter

_LANGUAGE = re.compile(r"language-([\w+#.-]+)")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<])")
_BLANK_LINES = re.compile(r"\n{3,}")


def _code_language(element: Any) -> str:
    code = element.find("code")
    classes = " ".join((code or element).get("class") or [])
    match = _LANGUAGE.search(classes)
    return match.group(1) if match else ""


_converter = MarkdownConverter(
    heading_style="ATX",
    bullets="-",
    code_language_callback=_code_language,
    escape_misc=False,
)


def html_to_markdown(html: str) -> str:
    """A Markdown source for `html` (already sanitised), for editing in Broadsheet."""
    return _tidy(_converter.convert(html))


def _tidy(markdown: str) -> str:
    return _BLANK_LINES.sub("\n\n", markdown).strip() + "\n" if markdown.strip() else ""


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _fence(code: str, language: str | None) -> str:
    return f"```{language or ''}\n{code.rstrip()}\n```"


def _image(src: str | None, alt: str | None, caption: str | None) -> str:
    if not src:
        return ""
    figure = f"![{_escape(alt or '')}]({src})"
    return f"{figure}\n\n*{caption}*" if caption else figure


class Dropped(list[str]):
    """Kinds of content a converter could not carry over (cards Broadsheet has no form for)."""


# Cards both editors share, by name: payload → Markdown (raw HTML is sanitised on rendering).
_CARDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "markdown": lambda p: p.get("markdown") or "",
    "card-markdown": lambda p: p.get("markdown") or "",
    "html": lambda p: p.get("html") or "",
    "embed": lambda p: p.get("html") or "",
    "code": lambda p: _fence(p.get("code") or "", p.get("language")),
    "codeblock": lambda p: _fence(p.get("code") or "", p.get("language")),
    "image": lambda p: _image(p.get("src"), p.get("alt") or p.get("altText"), p.get("caption")),
    "hr": lambda p: "---",
    "horizontalrule": lambda p: "---",
    "bookmark": lambda p: f"<{p['url']}>" if p.get("url") else "",
}


def _card(name: str, payload: dict[str, Any], dropped: Dropped) -> str:
    convert = _CARDS.get(name)
    if convert is None:
        dropped.append(name)
        return ""
    return convert(payload)


def _join(blocks: Iterable[str]) -> str:
    return _tidy("\n\n".join(block for block in blocks if block))


# --- Mobiledoc (https://github.com/bustle/mobiledoc-kit/blob/master/MOBILEDOC.md, 0.3) ---

_MOBILEDOC_MARKUP = {"b": "**", "strong": "**", "i": "*", "em": "*", "code": "`", "s": "~~"}
_MOBILEDOC_BLOCK = {"h1": "# ", "h2": "## ", "h3": "### ", "h4": "#### ", "h5": "##### "}
_MOBILEDOC_BLOCK |= {"h6": "###### ", "blockquote": "> ", "aside": "> ", "pull-quote": "> "}


def _mobiledoc_markers(doc: dict[str, Any], markers: list[Any]) -> str:
    markups = doc.get("markups") or []
    atoms = doc.get("atoms") or []
    out: list[str] = []
    open_closers: list[str] = []
    for kind, opened, closed, value in markers:
        for index in opened:
            tag, attributes = markups[index][0], (markups[index][1:] or [[]])[0]
            if tag == "a":
                pairs = dict(zip(attributes[::2], attributes[1::2], strict=False))
                out.append("[")
                open_closers.append(f"]({pairs.get('href', '')})")
            else:
                mark = _MOBILEDOC_MARKUP.get(tag, "")
                out.append(mark)
                open_closers.append(mark)
        out.append(_escape(value) if kind == 0 else _escape(str(atoms[value][1])))
        for _ in range(closed):
            out.append(open_closers.pop())
    out.extend(reversed(open_closers))
    return "".join(out)


def mobiledoc_to_markdown(doc: dict[str, Any]) -> tuple[str, Dropped]:
    """Markdown for a Mobiledoc document: its text sections, lists and cards."""
    dropped = Dropped()
    cards = doc.get("cards") or []
    blocks: list[str] = []
    for section in doc.get("sections") or []:
        kind = section[0]
        if kind == 1:
            prefix = _MOBILEDOC_BLOCK.get(str(section[1]).lower(), "")
            blocks.append(prefix + _mobiledoc_markers(doc, section[2]))
        elif kind == 2:
            blocks.append(_image(section[1], None, None))
        elif kind == 3:
            ordered = section[1] == "ol"
            items = [f"{n}. " if ordered else "- " for n in range(1, len(section[2]) + 1)]
            blocks.append(
                "\n".join(
                    marker + _mobiledoc_markers(doc, item)
                    for marker, item in zip(items, section[2], strict=True)
                )
            )
        elif kind == 10:
            name, payload = cards[section[1]][0], cards[section[1]][1]
            blocks.append(_card(name, payload, dropped))
    return _join(blocks), dropped


# --- Lexical (Ghost 5's editor: a JSON tree under "root") ---

_FORMATS = ((16, "`"), (1, "**"), (2, "*"), (4, "~~"))  # code innermost, as Ghost renders it


def _lexical_inline(nodes: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for node in nodes:
        kind = str(node.get("type", "")).removeprefix("extended-")
        if kind == "text":
            text = node.get("text") or ""
            fmt = int(node.get("format") or 0)
            text = text if fmt & 16 else _escape(text)
            for bit, mark in _FORMATS:
                if fmt & bit:
                    text = f"{mark}{text}{mark}"
            out.append(text)
        elif kind == "linebreak":
            out.append("  \n")
        elif kind in {"link", "autolink"}:
            out.append(f"[{_lexical_inline(node.get('children') or [])}]({node.get('url', '')})")
        else:
            out.append(_lexical_inline(node.get("children") or []))
    return "".join(out)


def _lexical_list(node: dict[str, Any], depth: int) -> str:
    lines: list[str] = []
    start = int(node.get("start") or 1)
    for n, item in enumerate(node.get("children") or []):
        marker = f"{start + n}. " if node.get("listType") == "number" else "- "
        children = item.get("children") or []
        inline = [child for child in children if child.get("type") != "list"]
        lines.append("   " * depth + marker + _lexical_inline(inline))
        lines.extend(
            _lexical_list(child, depth + 1) for child in children if child.get("type") == "list"
        )
    return "\n".join(lines)


def _lexical_block(node: dict[str, Any], dropped: Dropped) -> str:
    kind = str(node.get("type", "")).removeprefix("extended-")
    children = node.get("children") or []
    if kind == "paragraph":
        return _lexical_inline(children)
    if kind == "heading":
        level = int(str(node.get("tag", "h2")).lstrip("h") or 2)
        return "#" * level + " " + _lexical_inline(children)
    if kind in {"quote", "aside"}:
        return "> " + _lexical_inline(children)
    if kind == "list":
        return _lexical_list(node, 0)
    return _card(kind, node, dropped)


def lexical_to_markdown(doc: dict[str, Any]) -> tuple[str, Dropped]:
    """Markdown for a Lexical document: paragraphs, headings, quotes, lists, text and cards."""
    dropped = Dropped()
    root = doc.get("root") or {}
    return _join(_lexical_block(node, dropped) for node in root.get("children") or []), dropped


def markdown_card(doc: dict[str, Any], *, lexical: bool) -> str | None:
    """The Markdown of a document that is one Markdown card (as Broadsheet exports, and as
    Ghost's Markdown-only posts are): the exact source, better than one made from html."""
    if lexical:
        nodes = (doc.get("root") or {}).get("children") or []
        if len(nodes) == 1 and nodes[0].get("type") == "markdown":
            return str(nodes[0].get("markdown") or "")
        return None
    sections, cards = doc.get("sections") or [], doc.get("cards") or []
    if len(sections) == 1 and sections[0][0] == 10 and len(cards) == 1:
        name, payload = cards[0][0], cards[0][1]
        if name in {"markdown", "card-markdown"}:
            return str(payload.get("markdown") or "")
    return None


def lexical_document(markdown: str) -> str:
    """A Lexical document holding `markdown` as one Markdown card (what Ghost 5 reads)."""
    card = {"type": "markdown", "version": 1, "markdown": markdown}
    root = {
        "children": [card],
        "direction": None,
        "format": "",
        "indent": 0,
        "type": "root",
        "version": 1,
    }
    return json.dumps({"root": root}, ensure_ascii=False)
