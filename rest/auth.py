"""Token login for scripts and staff apps: a first-party password grant, not third-party OAuth."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from db import models
from db.repositories import UserRepository
from rest.bodies import StrictJSONRoute, Text
from rest.deps import AuthenticatorDep, CurrentStaff, DatabaseDep
from service.auth import TokenPair
from service.errors import Unauthenticated

router = APIRouter(
    route_class=StrictJSONRoute,
    prefix="/api/v1/auth",
    tags=["auth"],
    responses={400: {"description": "The body is not valid JSON (or form data)."}},
)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str

    @classmethod
    def from_pair(cls, pair: TokenPair) -> TokenResponse:
        return cls(
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token,
        )


class RefreshRequest(BaseModel):
    refresh_token: Text = Field(max_length=512)


class SetupRequest(BaseModel):
    email: Text = Field(max_length=191)
    password: Text = Field(max_length=256)
    name: Text = Field(max_length=191)
    site_title: Text | None = Field(default=None, max_length=150)


class PasswordForm(OAuth2PasswordRequestForm):
    """OAuth2's password grant (FastAPI's form), with text fields that hold no NUL."""

    def __init__(
        self,
        *,
        username: Annotated[Text, Form()],
        password: Annotated[Text, Form(json_schema_extra={"format": "password"})],
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


class StaffProfile(BaseModel):
    id: int
    email: str
    name: str
    slug: str
    role: models.Role
    status: models.UserStatus
    bio: str | None
    profile_image: str | None
    website: str | None
    location: str | None
    created_at: datetime
    last_seen_at: datetime | None

    @classmethod
    def from_model(cls, user: models.User) -> StaffProfile:
        return cls(
            id=user.id,
            email=user.email,
            name=user.name,
            slug=user.slug,
            role=user.role,
            status=user.status,
            bio=user.bio,
            profile_image=user.profile_image,
            website=user.website,
            location=user.location,
            created_at=user.created_at,
            last_seen_at=user.last_seen_at,
        )


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Bad credentials (with `WWW-Authenticate: Bearer`)."}
}


@router.post("/setup", status_code=status.HTTP_201_CREATED, responses={409: {}, 422: {}})
async def setup(body: SetupRequest, authenticator: AuthenticatorDep) -> StaffProfile:
    """Create the owner account; only while the site has no staff (409 afterwards)."""
    owner = await authenticator.setup(
        email=body.email, password=body.password, name=body.name, site_title=body.site_title
    )
    return StaffProfile.from_model(owner)


@router.post("/token", responses={**UNAUTHORIZED, 429: {"description": "Throttled."}})
async def token(
    request: Request,
    form: Annotated[PasswordForm, Depends()],
    authenticator: AuthenticatorDep,
) -> TokenResponse:
    """Sign in with email (as `username`) and password; returns access and refresh tokens."""
    address = request.client.host if request.client else "unknown"
    pair = await authenticator.login(email=form.username, password=form.password, address=address)
    return TokenResponse.from_pair(pair)


@router.post("/refresh", responses=UNAUTHORIZED)
async def refresh(body: RefreshRequest, authenticator: AuthenticatorDep) -> TokenResponse:
    """Exchange a refresh token for a new pair; the old one stops working (rotation)."""
    return TokenResponse.from_pair(await authenticator.refresh(body.refresh_token))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, authenticator: AuthenticatorDep) -> Response:
    """Revoke a refresh token."""
    await authenticator.logout(body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", responses=UNAUTHORIZED)
async def me(viewer: CurrentStaff, db: DatabaseDep) -> StaffProfile:
    """The signed-in staff user's profile."""
    assert viewer.user_id is not None
    async with db.read_sessions() as session:
        user = await UserRepository(session).get(viewer.user_id)
    if user is None:
        raise Unauthenticated("Sign in to see this.")
    return StaffProfile.from_model(user)
