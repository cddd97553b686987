"""Token login over REST: set-up, login, refresh rotation, logout, /me, token checks."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from jwt.warnings import InsecureKeyLengthWarning
from sqlalchemy import func, select

from db import models
from db.engine import Database
from service.settings import Settings
from tests.factories import create_user
from tests.helpers import PASSWORD, bearer, sign_in

SETUP = {
    "email": "Owner@Example.com",
    "password": PASSWORD,
    "name": "Olive Owner",
    "site_title": "Daily",
}


async def _count_users(db: Database) -> int:
    async with db.read_sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(models.User)) or 0)


async def test_setup_creates_the_owner_once(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post("/api/v1/auth/setup", json=SETUP)

    assert response.status_code == 201
    profile = response.json()
    assert profile["email"] == "Owner@example.com"
    assert profile["role"] == "owner"
    assert "password_hash" not in profile
    settings = (await client.post("/graphql", json={"query": "{ settings { title } }"})).json()
    assert settings["data"]["settings"]["title"] == "Daily"

    again = await client.post("/api/v1/auth/setup", json={**SETUP, "email": "b@example.com"})
    assert again.status_code == 409
    assert await _count_users(db) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "password"),
        ({"password": "password123"}, "password"),
        ({"email": "nope"}, "email"),
        ({"name": " "}, "name"),
    ],
)
async def test_setup_refuses_bad_input_and_writes_nothing(
    client: httpx.AsyncClient, db: Database, change: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/auth/setup", json={**SETUP, **change})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert await _count_users(db) == 0


async def test_login_me_refresh_logout(client: httpx.AsyncClient, db: Database) -> None:
    await create_user(db, name="Ed", role=models.Role.EDITOR, password=PASSWORD)

    tokens = await sign_in(client, "ED@example.com")  # emails match case-insensitively

    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    me = await client.get("/api/v1/auth/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["email"] == "ed@example.com"
    assert me.json()["role"] == "editor"
    assert me.json()["last_seen_at"] is not None

    rotated = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh_token"] != tokens["refresh_token"]
    assert (await client.get("/api/v1/auth/me", headers=bearer(new))).status_code == 200

    logout = await client.post("/api/v1/auth/logout", json={"refresh_token": new["refresh_token"]})
    assert logout.status_code == 204
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert after.status_code == 401


async def test_wrong_password_and_unknown_email_look_alike(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_user(db, name="Ed", password=PASSWORD)

    async def attempt(email: str) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        response = await client.post(
            "/api/v1/auth/token", data={"username": email, "password": "wrong password 1"}
        )
        return response, time.perf_counter() - started

    await attempt("warm-up@example.com")  # first request pays for connections and threads
    wrong_times, unknown_times = [], []
    for _ in range(3):
        wrong, elapsed = await attempt("ed@example.com")
        wrong_times.append(elapsed)
        unknown, elapsed = await attempt("nobody@example.com")
        unknown_times.append(elapsed)
    wrong_time, unknown_time = sorted(wrong_times)[1], sorted(unknown_times)[1]

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "Incorrect email or password."}
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"
    # Both verify an Argon2 hash, so neither answers in a fraction of the other's time.
    assert 0.3 < wrong_time / unknown_time < 3.3


async def test_a_reused_refresh_token_revokes_its_family(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_user(db, name="Ed", password=PASSWORD)
    first = await sign_in(client, "ed@example.com")
    second = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()

    replay = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )

    assert replay.status_code == 401
    assert replay.headers["www-authenticate"] == "Bearer"
    # The thief's replay also ends the legitimate holder's newer token.
    stolen = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert stolen.status_code == 401


async def test_ten_concurrent_refreshes_give_exactly_one_success(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_user(db, name="Ed", password=PASSWORD)
    tokens = await sign_in(client, "ed@example.com")

    responses = await asyncio.gather(
        *(
            client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
            for _ in range(10)
        )
    )

    assert sorted(r.status_code for r in responses) == [200] + [401] * 9


def _forge(claims_change: dict[str, Any], *, key: str = "x" * 48, algorithm: str = "HS256") -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": "1",
        "ver": 0,
        "iss": "broadsheet",
        "aud": "broadsheet-api",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j",
        **claims_change,
    }
    with warnings.catch_warnings():  # HS512 wants a longer key; the server's is what we test
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(
            {k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm
        )


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    return ".".join(
        [header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature]
    )


@pytest.mark.parametrize(
    "token_of",
    [
        lambda valid: _forge({}, key="y" * 48),  # wrong key
        lambda valid: _forge({"exp": datetime.now(UTC) - timedelta(seconds=1)}),  # expired
        lambda valid: _forge({"aud": "someone-else"}),  # wrong audience
        lambda valid: _forge({"iss": "someone-else"}),  # wrong issuer
        lambda valid: _forge({"jti": None}),  # missing claim
        lambda valid: _forge({"nbf": datetime.now(UTC) + timedelta(minutes=1)}),  # not yet valid
        lambda valid: jwt.encode({"sub": "1", "ver": 0}, "", algorithm="none"),  # alg none
        lambda valid: _forge({}, algorithm="HS512"),  # another algorithm, same key
        _tampered,
        lambda valid: "garbage",
    ],
)
async def test_bad_tokens_are_refused_before_any_resolver(
    client: httpx.AsyncClient, db: Database, token_of: Callable[[str], str]
) -> None:
    await create_user(db, name="Ed", password=PASSWORD)
    valid = (await sign_in(client, "ed@example.com"))["access_token"]
    token = token_of(valid)
    headers = {"Authorization": f"Bearer {token}"}

    me = await client.get("/api/v1/auth/me", headers=headers)
    graphql = await client.post(
        "/graphql", json={"query": "{ settings { title } }"}, headers=headers
    )

    assert me.status_code == graphql.status_code == 401
    assert graphql.headers["www-authenticate"] == "Bearer"
    assert "data" not in graphql.json()


async def test_the_forged_token_helper_makes_valid_tokens(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await create_user(db, name="Ed", password=PASSWORD)
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {_forge({'sub': str(user.id)})}"}
    )
    assert me.status_code == 200  # so the refusals above are for the reason each case names


async def test_me_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Small numbers, so the throttle is reached in a few requests.
    return Settings(
        database_url=database_url,
        secret_key="x" * 48,
        login_free_attempts_per_account=3,
        login_max_failures_per_account=6,
        login_free_attempts_per_address=8,
        _env_file=None,
    )


async def _fail(client: httpx.AsyncClient, email: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": email, "password": "wrong password 1"}
    )


async def test_failed_logins_are_throttled_per_account(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_user(db, name="Ed", password=PASSWORD)
    await create_user(db, name="Bo", password=PASSWORD)

    assert [(await _fail(client, "ed@example.com")).status_code for _ in range(3)] == [401] * 3
    blocked = await client.post(
        "/api/v1/auth/token", data={"username": "ed@example.com", "password": PASSWORD}
    )

    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert (await sign_in(client, "bo@example.com"))["access_token"]  # another account is fine


async def test_an_account_locks_after_the_maximum_failures(
    client: httpx.AsyncClient, db: Database
) -> None:
    await create_user(db, name="Ed", password=PASSWORD)
    async with db.write_sessions.begin() as session:
        session.add(models.LoginThrottle(key="account:ed@example.com", failures=5))

    assert (await _fail(client, "ed@example.com")).status_code == 401  # the sixth
    async with db.read_sessions() as session:
        throttle = await session.get(models.LoginThrottle, "account:ed@example.com")
    assert throttle is not None
    assert throttle.blocked_until is not None
    assert throttle.blocked_until > datetime.now(UTC) + timedelta(days=365)
    correct = await client.post(
        "/api/v1/auth/token", data={"username": "ed@example.com", "password": PASSWORD}
    )
    assert correct.status_code == 429


async def test_one_address_trying_many_accounts_is_throttled(app: FastAPI, db: Database) -> None:
    attacker = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 1)), base_url="http://t"
    )
    visitor = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.7", 1)), base_url="http://t"
    )
    await create_user(db, name="Ed", password=PASSWORD)
    async with attacker, visitor:
        statuses = [(await _fail(attacker, f"user{n}@example.com")).status_code for n in range(8)]
        assert statuses == [401] * 8
        assert (await _fail(attacker, "ed@example.com")).status_code == 429
        assert (await sign_in(visitor, "ed@example.com"))["access_token"]


@pytest.mark.parametrize("length", [250, 5000])
async def test_a_username_longer_than_any_email_is_a_failed_sign_in_not_a_500(
    client: httpx.AsyncClient, db: Database, length: int
) -> None:
    """The throttle counts it under a digest (its key column holds 255 characters)."""
    for _ in range(2):
        response = await client.post(
            "/api/v1/auth/token", data={"username": "a" * length, "password": "x"}
        )
        assert response.status_code == 401, response.text
    async with db.read_sessions() as session:
        keys = list(await session.scalars(select(models.LoginThrottle.key)))
    accounts = [key for key in keys if key.startswith("account:")]
    assert len(accounts) == 1
    assert accounts[0].startswith("account:sha256:")
