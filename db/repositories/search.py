"""Full-text search over posts: FTS5 on SQLite, a generated tsvector on PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnClause,
    Float,
    Select,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from db import models
from db.repositories.pagination import SortKey

_WORD = re.compile(r"\w+", re.UNICODE)
# Longer searches are refused: each word costs both engines a term to match (a search of
# 20,000 words took SQLite minutes and overflowed PostgreSQL's parser stack), and no reader
# types more than a sentence into a search box.
MAX_SEARCH_CHARACTERS = 500
MAX_SEARCH_WORDS = 32


class InvalidSearch(ValueError):
    """A search text over the limits."""


def check_search(text: str) -> str:
    """`text`, when it is within the limits a search may have."""
    if len(text) > MAX_SEARCH_CHARACTERS:
        raise InvalidSearch(f"`search` may be at most {MAX_SEARCH_CHARACTERS} characters")
    if len(_WORD.findall(text)) > MAX_SEARCH_WORDS:
        raise InvalidSearch(f"`search` may have at most {MAX_SEARCH_WORDS} words")
    return text


_fts = table("posts_fts", column("rowid"))
# bm25 weights for title, custom_excerpt, plaintext: a word in the title counts most.
_BM25_WEIGHTS = (10.0, 4.0, 1.0)


def fts5_query(text: str) -> str | None:
    """Each word quoted (FTS5 syntax in user input is data, not operators), all required."""
    words = _WORD.findall(text)
    return " ".join(f'"{word}"' for word in words) if words else None


def apply_search(stmt: Select[Any], text: str, *, dialect: str) -> tuple[Select[Any], SortKey]:
    """Restrict `stmt` to posts matching `text` (within `check_search`'s limits, which the
    API applies); return it with the relevance sort key."""
    if dialect == "sqlite":
        query = fts5_query(text)
        if query is None:
            return stmt.where(false()), SortKey("rank", literal(0.0), descending=False, kind=float)
        fts_table: ColumnClause[Any] = literal_column("posts_fts")
        stmt = stmt.join(_fts, _fts.c.rowid == models.Post.id).where(fts_table.op("MATCH")(query))
        # bm25 is lower for better matches.
        rank = cast(func.bm25(fts_table, *_BM25_WEIGHTS), Float)
        return stmt, SortKey("rank", rank, descending=False, kind=float)
    vector = literal_column("posts.search_vector", type_=TSVECTOR)
    # Worked out once per statement (an InitPlan), not once per matching row: PostgreSQL's
    # generic plans (the compiled path's, read_pool) fold no function of a parameter, and a
    # term matching 10,000 posts spent a sixth of the statement parsing it again for each.
    tsquery = select(func.websearch_to_tsquery("english", text)).scalar_subquery()
    stmt = stmt.where(vector.op("@@")(tsquery))
    rank = cast(func.ts_rank_cd(vector, tsquery), Float)
    return stmt, SortKey("rank", rank, descending=True, kind=float)
