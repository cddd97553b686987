"""Slugs handed out during an import: unique within their scope, stable across re-runs."""

from __future__ import annotations

from collections.abc import Hashable, Iterable


class SlugClaims:
    """Who holds each slug of one scope (posts, pages, tags or users): a database row's id
    or a new record of the file. A record asking for a slug held by someone else gets the
    lowest free `-N` suffix, or keeps the suffixed slug it got on an earlier run."""

    def __init__(self, held: Iterable[tuple[str, Hashable]]) -> None:
        self.holder: dict[str, Hashable] = dict(held)

    def claim(self, wanted: str, *, who: Hashable, current: str | None = None) -> str:
        if self.holder.get(wanted, who) == who:
            self.holder[wanted] = who
            return wanted
        if current and current.startswith(f"{wanted}-") and self.holder.get(current) == who:
            return current
        n = 2
        while self.holder.get(f"{wanted}-{n}", who) != who:
            n += 1
        self.holder[f"{wanted}-{n}"] = who
        return f"{wanted}-{n}"
