"""Invitation tests: a known SMS id secret and fresh link and phone keys, nothing from the shell."""

from __future__ import annotations

import pytest

from tests.helpers.invitations import use_invitation_env

SMS_ID_SECRET = "invitation-tests-sms-id-secret-0123456789"


@pytest.fixture(autouse=True)
def invitation_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_invitation_env(monkeypatch, "https://chat.example-clinic.org", SMS_ID_SECRET)
