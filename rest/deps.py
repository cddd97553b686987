"""Dependencies shared by the REST routers (`Annotated` aliases)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from db.engine import Database
from service.auth import Authenticator
from service.errors import Unauthenticated
from service.policy import Viewer
from service.settings import Settings

# Declares the scheme for OpenAPI (Swagger's Authorize button); we read the header ourselves.
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator


DatabaseDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]


async def get_current_staff(
    request: Request,
    authenticator: AuthenticatorDep,
    _token: Annotated[str | None, Depends(bearer_scheme)],
) -> Viewer:
    """The signed-in staff user; 401 without a valid Bearer token."""
    viewer = await authenticator.viewer(
        authorization=request.headers.get("authorization"), api_key=None
    )
    if viewer.user_id is None:
        raise Unauthenticated("Sign in to see this.")
    return viewer


CurrentStaff = Annotated[Viewer, Depends(get_current_staff)]
