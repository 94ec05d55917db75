"""The signed, expiring token of a patient's own-copy link (bot/records/copy_link.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import settings
from bot.records import copy_link

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_a_token_opens_its_record_until_it_expires() -> None:
    token = copy_link.sign(42, hours=72, now=NOW)
    assert copy_link.record_id(token, now=NOW + dt.timedelta(hours=71, minutes=59)) == 42
    with pytest.raises(copy_link.LinkError) as error:
        copy_link.record_id(token, now=NOW + dt.timedelta(hours=72))
    assert error.value.expired


@pytest.mark.parametrize(
    "change",
    [
        lambda token: "43" + token[2:],  # another record's number
        lambda token: _later(token),  # a later expiry
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # a forged signature
        lambda token: "42",
        lambda token: "",
        lambda token: "x.y.z",
    ],
)
def test_an_altered_token_opens_nothing(change: object) -> None:
    token = copy_link.sign(42, hours=1, now=NOW)
    with pytest.raises(copy_link.LinkError) as error:
        copy_link.record_id(change(token), now=NOW)  # type: ignore[operator]
    assert not error.value.expired


def _later(token: str) -> str:
    number, expires, signature = token.split(".")
    return f"{number}.{int(expires) + 3600 * 24 * 365}.{signature}"


def test_another_secret_opens_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    token = copy_link.sign(42, hours=1, now=NOW)
    monkeypatch.setenv(copy_link.SECRET_ENV, "another-secret-" + "x" * 40)
    with pytest.raises(copy_link.LinkError):
        copy_link.record_id(token, now=NOW)


def test_the_link_is_short_enough_for_a_text_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.PUBLIC_URL_ENV, "https://chat.example-clinic.org/")
    link = copy_link.link(123456)
    assert link.startswith(f"https://chat.example-clinic.org{copy_link.PATH}/123456.")
    assert len(link) < 110


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PUBLIC_BASE_URL": "chat.example.org"}, "must start with https://"),
        (
            {"PUBLIC_BASE_URL": "http://chat.example.org", "ASSISTANT_ENV": "production"},
            "https:// address in production",
        ),
        ({"PATIENT_COPY_HOURS": "0"}, "whole hours from 1"),
        ({"PATIENT_COPY_HOURS": "two days"}, "whole hours from 1"),
    ],
)
def test_bad_link_settings_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    read = settings.copy_link_hours if "PATIENT_COPY_HOURS" in env else settings.public_base_url
    with pytest.raises(settings.SettingsError, match=message):
        read(env)
