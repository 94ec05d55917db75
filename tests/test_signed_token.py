"""Short signed tokens bound to a purpose (bot/signed_token.py), shared by the copy and invitation links."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.signed_token import LinkError, Signer

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
ONE = Signer(b"one", "SIGNED_TOKEN_TEST_SECRET", "development-only-signed-token-test")
OTHER = Signer(b"other", "SIGNED_TOKEN_TEST_SECRET", "development-only-signed-token-test")


def test_a_token_opens_for_its_purpose_until_it_expires() -> None:
    token = ONE.sign("abc", NOW + dt.timedelta(hours=1))
    assert ONE.open(token, NOW) == ("abc", int((NOW + dt.timedelta(hours=1)).timestamp()))
    with pytest.raises(LinkError) as error:
        ONE.open(token, NOW + dt.timedelta(hours=1))
    assert error.value.expired


def test_the_same_secret_for_another_purpose_opens_nothing() -> None:
    token = ONE.sign("abc", NOW + dt.timedelta(hours=1))
    with pytest.raises(LinkError) as error:
        OTHER.open(token, NOW)
    assert not error.value.expired


def test_an_issue_time_token_works_for_its_max_age_and_never_from_the_future() -> None:
    token = ONE.sign("abc", NOW)
    assert ONE.open(token, NOW + dt.timedelta(hours=11), max_age=dt.timedelta(hours=12))[0] == "abc"
    with pytest.raises(LinkError) as expired:
        ONE.open(token, NOW + dt.timedelta(hours=12), max_age=dt.timedelta(hours=12))
    assert expired.value.expired
    with pytest.raises(LinkError) as future:
        ONE.open(ONE.sign("abc", NOW + dt.timedelta(hours=1)), NOW, max_age=dt.timedelta(hours=12))
    assert not future.value.expired


@pytest.mark.parametrize("token", ["", "a.b", "a.1.x.y", ".1.x", "a.\u00b2.x", "a. 1.x", "a.1.\u00e9\u00e9"])
def test_malformed_tokens_are_refused_not_crashed_on(token: str) -> None:
    with pytest.raises(LinkError):
        ONE.open(token, NOW)


def test_a_subject_with_a_dot_cannot_be_signed() -> None:
    with pytest.raises(ValueError):
        ONE.sign("a.b", NOW)
