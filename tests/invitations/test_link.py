"""The invitation link and the browser key (bot/invitations/link.py): signed, expiring, bound to their purpose."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import settings
from bot.invitations import link
from bot.records import copy_link

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
LATER = NOW + dt.timedelta(days=14)
ID = "AbCdEfGhIjKlMnOp"


def test_a_link_names_its_invitation_until_it_expires() -> None:
    token = link.sign(ID, LATER)
    assert token.startswith(f"{ID}.{int(LATER.timestamp())}.")
    assert link.verify(token, NOW) == ID
    assert link.verify(token, LATER - dt.timedelta(seconds=1)) == ID
    with pytest.raises(link.LinkError) as error:
        link.verify(token, LATER)
    assert error.value.expired


def test_every_changed_character_breaks_the_link() -> None:
    token = link.sign(ID, LATER)
    for position, character in enumerate(token):
        if character == ".":
            continue
        changed = token[:position] + ("B" if character != "B" else "C") + token[position + 1 :]
        with pytest.raises(link.LinkError) as error:
            link.verify(changed, NOW)
        assert not error.value.expired, changed


def test_another_secret_opens_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    token = link.sign(ID, LATER)
    monkeypatch.setenv(link.SECRET_ENV, "another-invitation-secret-0123456789")
    with pytest.raises(link.LinkError):
        link.verify(token, NOW)


def test_a_copy_link_is_no_invitation_and_an_invitation_no_copy_link(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when both secrets are the same, the purpose signed in keeps the two apart."""
    shared = "one-secret-for-both-links-0123456789"
    monkeypatch.setenv(link.SECRET_ENV, shared)
    monkeypatch.setenv(copy_link.SECRET_ENV, shared)
    copy_token = copy_link.sign(42, hours=1, now=NOW)
    with pytest.raises(link.LinkError):
        link.verify(copy_token, NOW)
    invitation_token = link.sign("42", LATER)
    with pytest.raises(copy_link.LinkError):
        copy_link.record_id(invitation_token, NOW)
    assert copy_link.record_id(copy_token, NOW) == 42 and link.verify(invitation_token, NOW) == "42"


def test_the_link_is_short_and_at_the_public_address() -> None:
    address = link.url(link.sign(ID, LATER))
    assert address.startswith("https://chat.example-clinic.org/i/AbCdEfGhIjKlMnOp.")
    assert len(address) < 90


def test_a_browser_key_lasts_invite_browser_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    key = link.browser_key(ID, NOW)
    assert key.startswith(f"b1.{ID}.{int(NOW.timestamp())}.")
    assert link.check_browser_key(key, NOW + dt.timedelta(hours=11, minutes=59)) == ID
    with pytest.raises(link.LinkError) as error:
        link.check_browser_key(key, NOW + dt.timedelta(hours=12))
    assert error.value.expired
    monkeypatch.setenv("INVITE_BROWSER_HOURS", "1")  # shortening the setting shortens keys already out
    with pytest.raises(link.LinkError):
        link.check_browser_key(key, NOW + dt.timedelta(hours=2))


def test_a_link_is_no_browser_key_and_a_browser_key_no_link() -> None:
    token = link.sign(ID, LATER)
    with pytest.raises(link.LinkError):
        link.check_browser_key(token, NOW)
    with pytest.raises(link.LinkError):
        link.check_browser_key("b1." + token, NOW)
    key = link.browser_key(ID, NOW)
    for not_a_link in (key, key[len(link.BROWSER_KEY_PREFIX) :]):
        with pytest.raises(link.LinkError):
            link.verify(not_a_link, NOW)


@pytest.mark.parametrize(
    ("env", "read", "message"),
    [
        ({"INVITE_LINK_DAYS": "0"}, settings.invite_link_days, "INVITE_LINK_DAYS"),
        ({"INVITE_LINK_DAYS": "two weeks"}, settings.invite_link_days, "INVITE_LINK_DAYS"),
        ({"INVITE_BROWSER_HOURS": "0"}, settings.invite_browser_hours, "INVITE_BROWSER_HOURS"),
        ({"INVITE_REQUIRE_DOB": "maybe"}, settings.invite_require_dob, "INVITE_REQUIRE_DOB"),
        ({"INVITE_DOB_ATTEMPTS": "0"}, settings.invite_dob_attempts, "INVITE_DOB_ATTEMPTS"),
    ],
)
def test_bad_invitation_settings_are_named(env: dict[str, str], read: object, message: str) -> None:
    with pytest.raises(settings.SettingsError, match=message):
        read(env)  # type: ignore[operator]


def test_invitation_settings_defaults() -> None:
    assert settings.invite_link_days({}) == 14 and settings.invite_browser_hours({}) == 12
    assert settings.invite_dob_attempts({}) == 5 and settings.invite_require_dob({}) is False
    assert settings.invite_require_dob({"INVITE_REQUIRE_DOB": "1"}) is True


def test_an_expired_link_still_names_its_invitation_for_its_page_and_a_forged_one_nothing() -> None:
    token = link.sign(ID, NOW - dt.timedelta(days=1))
    with pytest.raises(link.LinkError):
        link.verify(token)
    assert link.named_invitation(token) == ID
    forged = token[:-1] + ("B" if token[-1] != "B" else "C")
    assert link.named_invitation(forged) is None and link.named_invitation("not-a-token") is None
