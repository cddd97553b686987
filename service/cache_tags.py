"""Cache tags: the names that say what a cached answer depends on, and so what a change must
purge (`post:<id>`, `tag:<id>`, `list:posts`, `settings`, ... with global ids). Events carry
them and answers name them (graphql_schema/answer_tags.py); this module spells them, so
every producer and consumer agrees."""

from __future__ import annotations

from collections.abc import Iterable

SETTINGS = "settings"
# On every answer: what a change that touches everything purges (a Ghost import, a deleted
# staff member whose posts pass to the owner).
SITE = "site"


def of_object(kind: str, global_id: str) -> str:
    """One post, page, tag or author: `post:<id>`."""
    return f"{kind}:{global_id}"


def list_of(kind: str) -> str:
    """Everything of a kind a reader can list: `list:posts`."""
    return f"list:{kind}s"


TAG_LIST = list_of("tag")
AUTHOR_LIST = list_of("author")


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
    names = [of_object(kind, global_id), list_of(kind)]
    names += [of_object("tag", id) for id in tags]
    names += [of_object("author", id) for id in authors]
    names += lists
    return list(dict.fromkeys(names))


def of_tag(global_id: str) -> list[str]:
    return [of_object("tag", global_id), TAG_LIST]


def of_author(global_id: str) -> list[str]:
    return [of_object("author", global_id), AUTHOR_LIST]
