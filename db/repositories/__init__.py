"""The shared CRUD layer: small repositories that take a session and a read scope."""

from db.repositories.groupings import AuthorRepository, TagRepository
from db.repositories.pagination import InvalidCursor, PageArgs, Slice
from db.repositories.persisted_queries import PersistedQueryRepository
from db.repositories.posts import PostRepository
from db.repositories.scope import Scope
from db.repositories.site_settings import SiteSettingsRepository
from db.repositories.users import UserRepository

__all__ = [
    "AuthorRepository",
    "InvalidCursor",
    "PageArgs",
    "PersistedQueryRepository",
    "PostRepository",
    "Scope",
    "SiteSettingsRepository",
    "Slice",
    "TagRepository",
    "UserRepository",
]
