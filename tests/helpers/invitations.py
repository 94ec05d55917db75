"""Invitation settings for tests: fresh keys and known secrets, nothing from the shell."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

SETTINGS = ("INVITE_REQUIRE_DOB", "INVITE_LINK_DAYS", "INVITE_BROWSER_HOURS", "INVITE_DOB_ATTEMPTS", "ASSISTANT_ENV")


def use_invitation_env(monkeypatch: pytest.MonkeyPatch, public_url: str, sms_id_secret: str) -> None:
    """Development mode, no invitation setting from the shell, a new phone key, known link and SMS id secrets."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SMS_ID_SECRET", sms_id_secret)
    monkeypatch.setenv("INVITE_LINK_SECRET", "invitation-tests-link-secret-0123456789")
    monkeypatch.setenv("INVITE_PHONE_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("PUBLIC_BASE_URL", public_url)
