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


@pytest.mark.parametrize(
    "value", ["CHANGE-ME-to-64-random-characters-openssl-rand-hex-32", "dev-insecure-twilio-auth-token-long-enough"]
)
def test_production_refuses_a_placeholder_however_long(value: str) -> None:
    """deploy/env.example's stand-ins are long enough; copied as they are, they are still not secrets."""
    assert len(value) >= settings.MIN_SECRET_CHARS
    with pytest.raises(settings.SettingsError, match="X_SECRET"):
        settings.secret("X_SECRET", None, env={**PRODUCTION, "X_SECRET": value})


def test_the_request_body_limit_defaults_to_64_kb_and_refuses_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAX_REQUEST_BYTES", raising=False)
    assert settings.max_request_bytes() == 64 * 1024
    monkeypatch.setenv("MAX_REQUEST_BYTES", "200000")
    assert settings.max_request_bytes() == 200_000
    for bad in ("64KB", "-1", "10"):
        monkeypatch.setenv("MAX_REQUEST_BYTES", bad)
        with pytest.raises(settings.SettingsError, match="MAX_REQUEST_BYTES"):
            settings.max_request_bytes()


def test_outreach_settings_have_defaults_and_refuse_nonsense() -> None:
    assert settings.outreach_enabled({}) and not settings.outreach_enabled({"OUTREACH_ENABLED": "0"})
    assert settings.reminder_days_before({}) == 2 and settings.reminder_days_before({"REMINDER_DAYS_BEFORE": "0"}) == 0
    assert settings.reminder_local_time({}).isoformat() == "10:00:00"
    assert settings.reminder_local_time({"REMINDER_LOCAL_TIME": "14:30"}).isoformat() == "14:30:00"
    assert settings.outreach_check_seconds({}) == 60
    assert not settings.patient_copy_sms({}) and settings.patient_copy_sms({"PATIENT_COPY_SMS": "on"})
    for name, bad, call in (
        ("OUTREACH_ENABLED", "maybe", settings.outreach_enabled),
        ("REMINDER_DAYS_BEFORE", "15", settings.reminder_days_before),
        ("REMINDER_LOCAL_TIME", "10am", settings.reminder_local_time),
        ("REMINDER_LOCAL_TIME", "10:00:00", settings.reminder_local_time),
        ("OUTREACH_CHECK_SECONDS", "1", settings.outreach_check_seconds),
        ("PATIENT_COPY_SMS", "after_decision", settings.patient_copy_sms),
    ):
        with pytest.raises(settings.SettingsError, match=name):
            call({name: bad})
