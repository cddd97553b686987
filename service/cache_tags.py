"""Cache tags: the names that say what a cached answer depends on, and so what a change must
purge (`post:<id>`, `tag:<id>`, `list:posts`, `settings`, ... with global ids). Events carry
them; one module names them, so every producer and consumer agrees."""

from __future__ import annotations

from collections.abc import Iterable

SETTINGS = "settings"


def of_content(
    kind: str,
    global_id: str,
    *,
    tags: Iterable[str],
    authors: Iterable[str],
    lists: Iterable[str] = (),
) -> list[str]:
    """A post or page, the lists it appears in, the archives of its tags and authors, and
    `lists` (the tag and author lists, when their counts or members changed)."""
    names = [f"{kind}:{global_id}", f"list:{kind}s"]
    names += [f"tag:{id}" for id in tags]
    names += [f"author:{id}" for id in authors]
    names += lists
    return list(dict.fromkeys(names))


TAG_LIST = "list:tags"
AUTHOR_LIST = "list:authors"


def of_tag(global_id: str) -> list[str]:
    return [f"tag:{global_id}", "list:tags"]


def of_author(global_id: str) -> list[str]:
    return [f"author:{global_id}", "list:authors"]
