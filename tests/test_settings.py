"""Production refuses unsafe configuration; development makes and keeps a key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from service.settings import Settings


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"secret_key": "short"},
        {"secret_key": "k" * 31},
        {"secret_key": "k" * 40, "debug": True},
    ],
)
def test_production_refuses_weak_configuration(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Settings(env="production", _env_file=None, **overrides)


def test_production_accepts_a_strong_key() -> None:
    settings = Settings(env="production", secret_key="k" * 32, _env_file=None)
    assert settings.is_production


def test_development_generates_a_key_once_beside_the_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/b.db", _env_file=None)
    key = settings.resolved_secret_key()
    assert len(key) >= 32
    assert (tmp_path / "broadsheet.secret").read_text() == key
    assert settings.resolved_secret_key() == key


def test_a_short_key_is_refused_in_development_too() -> None:
    with pytest.raises(ValidationError):
        Settings(secret_key="k" * 31, _env_file=None)
