"""Full-text search over posts: FTS5 on SQLite, a generated tsvector on PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Float, Select, cast, column, false, func, literal, literal_column, table
from sqlalchemy.dialects.postgresql import TSVECTOR

from db import models
from db.repositories.pagination import SortKey

_WORD = re.compile(r"\w+", re.UNICODE)
_fts = table("posts_fts", column("rowid"))
# bm25 weights for title, custom_excerpt, plaintext: a word in the title counts most.
_BM25_WEIGHTS = (10.0, 4.0, 1.0)


def fts5_query(text: str) -> str | None:
    """Each word quoted (FTS5 syntax in user input is data, not operators), all required."""
    words = _WORD.findall(text)
    return " ".join(f'"{word}"' for word in words) if words else None


def apply_search(stmt: Select[Any], text: str, *, dialect: str) -> tuple[Select[Any], SortKey]:
    """Restrict `stmt` to posts matching `text`; return it with the relevance sort key."""
    if dialect == "sqlite":
        query = fts5_query(text)
        if query is None:
            return stmt.where(false()), SortKey("rank", literal(0.0), descending=False, kind=float)
        fts_table = literal_column("posts_fts")
        stmt = stmt.join(_fts, _fts.c.rowid == models.Post.id).where(fts_table.op("MATCH")(query))
        # bm25 is lower for better matches.
        rank = cast(func.bm25(fts_table, *_BM25_WEIGHTS), Float)
        return stmt, SortKey("rank", rank, descending=False, kind=float)
    vector = literal_column("posts.search_vector", type_=TSVECTOR)
    tsquery = func.websearch_to_tsquery("english", text)
    stmt = stmt.where(vector.op("@@")(tsquery))
    rank = cast(func.ts_rank_cd(vector, tsquery), Float)
    return stmt, SortKey("rank", rank, descending=True, kind=float)
