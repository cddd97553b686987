"""SQLAlchemy models; import as a module (`from db import models`)."""

from db.base import Base
from db.models.auth import ApiKey, ApiKeyScope, LoginThrottle, RefreshToken
from db.models.content_version import ContentVersion
from db.models.event import Event
from db.models.media import Media
from db.models.persisted_query import PersistedQuery
from db.models.post import Post, PostAuthor, PostStatus, PostTag, PostType
from db.models.revision import PostRevision
from db.models.site_settings import SiteSettings
from db.models.tag import Tag, TagVisibility
from db.models.user import Role, User, UserStatus
from db.models.webhook import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ApiKey",
    "ApiKeyScope",
    "Base",
    "ContentVersion",
    "DeliveryStatus",
    "Event",
    "LoginThrottle",
    "Media",
    "PersistedQuery",
    "Post",
    "PostAuthor",
    "PostRevision",
    "PostStatus",
    "PostTag",
    "PostType",
    "RefreshToken",
    "Role",
    "SiteSettings",
    "Tag",
    "TagVisibility",
    "User",
    "UserStatus",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
