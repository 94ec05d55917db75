"""Environment settings: production mode refuses missing and development secrets."""

from __future__ import annotations

import pytest

from bot import settings

PRODUCTION = {settings.ENVIRONMENT_ENV: "production"}


def test_development_falls_back_to_the_development_value() -> None:
    assert settings.secret("X_SECRET", "dev-value", env={}) == "dev-value"
    assert settings.secret("X_SECRET", env={}) is None
    assert settings.secret("X_SECRET", "dev-value", env={"X_SECRET": " real "}) == "real"


@pytest.mark.parametrize("value", ["", "dev-value", "too-short"])
def test_production_refuses_a_missing_development_or_short_secret(value: str) -> None:
    with pytest.raises(settings.SettingsError, match="X_SECRET"):
        settings.secret("X_SECRET", "dev-value", env={**PRODUCTION, "X_SECRET": value})


def test_production_takes_a_real_secret() -> None:
    real = "r" * settings.MIN_SECRET_CHARS
    assert settings.secret("X_SECRET", "dev-value", env={**PRODUCTION, "X_SECRET": real}) == real
    assert settings.is_production(PRODUCTION) and not settings.is_production({})
