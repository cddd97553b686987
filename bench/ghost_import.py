"""Time `broadsheet import ghost` on a generated 10,000-post Ghost 5 export.

    python bench/ghost_import.py                      # SQLite, in a temporary directory
    python bench/ghost_import.py postgresql+asyncpg://postgres@127.0.0.1:5432/ghost_bench

The PostgreSQL database is emptied first (`broadsheet db downgrade base`): give it one of
its own. Each import runs as the command a user types, in a child process; the first run
creates everything, the second finds everything unchanged. Target: 60 s each.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from service.seeding import WORDS  # the benchmark data set's own vocabulary

POSTS, USERS, TAGS = 10_000, 100, 500
ROLES = ["Owner", "Administrator", "Editor", "Author", "Contributor"]


def _id(kind: int, n: int) -> str:
    return f"{kind:02x}{n:022x}"


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _lexical(paragraphs: list[str]) -> str:
    nodes = [
        {
            "type": "paragraph",
            "version": 1,
            "children": [{"type": "extended-text", "version": 1, "format": 0, "text": text}],
        }
        for text in paragraphs
    ]
    return json.dumps({"root": {"type": "root", "version": 1, "children": nodes}})


def generate(seed: int = 7) -> dict[str, Any]:
    """A Ghost 5 export: 10,000 posts of about 400 words, 100 users, 500 tags."""
    rng = random.Random(seed)
    stamp = "2024-01-01T09:00:00.000Z"
    users = [
        {
            "id": _id(1, n),
            "name": f"Writer {n}",
            "slug": f"writer-{n}",
            "email": f"writer{n}@example.com",
            "status": "active",
            "created_at": stamp,
            "updated_at": stamp,
        }
        for n in range(USERS)
    ]
    roles = [{"id": _id(2, n), "name": name} for n, name in enumerate(ROLES)]
    roles_users = [
        {"id": _id(3, n), "role_id": _id(2, min(n, 4)), "user_id": _id(1, n)} for n in range(USERS)
    ]
    tags = [
        {"id": _id(4, n), "name": f"Topic {n}", "slug": f"topic-{n}", "created_at": stamp}
        for n in range(TAGS)
    ]
    posts, posts_tags, posts_authors = [], [], []
    for n in range(POSTS):
        paragraphs = [_sentence(rng, 40) for _ in range(10)]
        posts.append(
            {
                "id": _id(5, n),
                "title": f"Post {n}: {_sentence(rng, 6)}",
                "slug": f"post-{n}",
                "lexical": _lexical(paragraphs),
                "html": "".join(f"<p>{text}</p>" for text in paragraphs),
                "type": "page" if n % 100 == 0 else "post",
                "status": "draft" if n % 50 == 1 else "published",
                "visibility": "public",
                "featured": n % 10 == 0,
                "created_at": stamp,
                "updated_at": stamp,
                "published_at": None if n % 50 == 1 else stamp,
            }
        )
        for order, tag in enumerate(rng.sample(range(TAGS), 3)):
            posts_tags.append(
                {
                    "id": _id(6, 3 * n + order),
                    "post_id": _id(5, n),
                    "tag_id": _id(4, tag),
                    "sort_order": order,
                }
            )
        for order, user in enumerate(rng.sample(range(USERS), 1 + n % 2)):
            posts_authors.append(
                {
                    "id": _id(7, 2 * n + order),
                    "post_id": _id(5, n),
                    "author_id": _id(1, user),
                    "sort_order": order,
                }
            )
    data = {
        "posts": posts,
        "tags": tags,
        "posts_tags": posts_tags,
        "users": users,
        "roles": roles,
        "roles_users": roles_users,
        "posts_authors": posts_authors,
        "settings": [{"id": _id(8, 0), "key": "title", "value": "Bench"}],
    }
    return {"db": [{"meta": {"exported_on": 1704099600000, "version": "5.80.0"}, "data": data}]}


def _broadsheet(url: str, *args: str) -> tuple[float, float, str]:
    """Run one command; its wall time, the child's peak memory (MB), and its last lines."""
    env = {**os.environ, "BROADSHEET_DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(["broadsheet", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if done.returncode != 0:
        sys.exit(f"broadsheet {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, peak, "\n".join(done.stdout.strip().splitlines()[-6:])


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite+aiosqlite:///{directory}/bench.db"
        if url.rstrip("/").rsplit("/", 1)[-1] == "test":
            sys.exit("refusing to empty a database named 'test': give the benchmark its own")
        export = Path(directory) / "bench.ghost.json"
        export.write_text(json.dumps(generate()))
        size = export.stat().st_size / 1e6
        print(f"{POSTS} posts, {USERS} users, {TAGS} tags: {size:.1f} MB of JSON")
        if not url.startswith("sqlite"):
            _broadsheet(url, "db", "downgrade", "base")
        _broadsheet(url, "db", "upgrade")
        for label, args in (
            ("dry run, empty database", ("--dry-run",)),
            ("first import", ()),
            ("second import (nothing changes)", ()),
        ):
            elapsed, peak, tail = _broadsheet(url, "import", "ghost", str(export), *args)
            print(f"{label}: {elapsed:.1f} s (peak memory of a run so far {peak:.0f} MB)")
            print("  " + tail.replace("\n", "\n  "))


if __name__ == "__main__":
    main()
