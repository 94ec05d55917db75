"""Invited numbers encrypted at rest (bot/invitations/phone.py): round trip, key rotation, bad keys named."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot import settings
from bot.invitations import InvitationError, phone

NUMBER = "+15550100123"


def test_a_number_comes_back_and_is_not_in_what_is_stored() -> None:
    stored = phone.encrypt(NUMBER)
    assert phone.decrypt(stored) == NUMBER
    assert "5550100123" not in stored and "0123" not in stored
    assert phone.encrypt(NUMBER) != stored  # a random IV: equal numbers do not look equal


def test_a_rotated_key_still_opens_old_rows_and_new_rows_use_the_new_key(monkeypatch: pytest.MonkeyPatch) -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv(phone.KEY_ENV, old_key)
    old_row = phone.encrypt(NUMBER)
    monkeypatch.setenv(phone.KEY_ENV, f"{new_key}, {old_key}")
    assert phone.decrypt(old_row) == NUMBER
    new_row = phone.encrypt(NUMBER)
    assert Fernet(new_key.encode()).decrypt(new_row.encode()).decode() == NUMBER
    rotated = phone.rotate(old_row)
    monkeypatch.setenv(phone.KEY_ENV, new_key)  # the old key dropped
    assert phone.decrypt(rotated) == NUMBER
    with pytest.raises(InvitationError, match=phone.KEY_ENV):
        phone.decrypt(old_row)


def test_a_key_that_is_no_fernet_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(phone.KEY_ENV, f"{Fernet.generate_key().decode()},not-a-key")
    with pytest.raises(settings.SettingsError, match="INVITE_PHONE_KEY: key 2 is not a Fernet key"):
        phone.encrypt(NUMBER)


def test_production_refuses_the_development_key_even_beside_a_real_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.ENVIRONMENT_ENV, settings.PRODUCTION)
    monkeypatch.setenv(phone.KEY_ENV, phone.DEVELOPMENT_KEY)
    with pytest.raises(settings.SettingsError, match=phone.KEY_ENV):
        phone.encrypt(NUMBER)
    monkeypatch.setenv(phone.KEY_ENV, f"{Fernet.generate_key().decode()},{phone.DEVELOPMENT_KEY}")
    with pytest.raises(settings.SettingsError, match="development key"):
        phone.encrypt(NUMBER)
    monkeypatch.delenv(phone.KEY_ENV)
    with pytest.raises(settings.SettingsError, match="not set"):
        phone.encrypt(NUMBER)


def test_development_works_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(phone.KEY_ENV)
    assert phone.decrypt(phone.encrypt(NUMBER)) == NUMBER
