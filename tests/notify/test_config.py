"""The on-call settings: which channels the environment configures, and clear refusals naming the variable."""

from __future__ import annotations

import pytest

from bot.notify import config
from bot.notify.config import OncallSettingError, from_env

GOOD_SECRET = "a-real-webhook-secret-" + "9f3a" * 8
PRODUCTION = {"ASSISTANT_ENV": "production", "CONSOLE_PUBLIC_URL": "https://console.clinic.example"}
TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 40, "TWILIO_FROM_NUMBER": "+15550109999"}


def refusal(env: dict[str, str]) -> OncallSettingError:
    with pytest.raises(OncallSettingError) as caught:
        from_env(env)
    return caught.value


def test_nothing_set_is_no_channel() -> None:
    assert from_env({}).channels() == []


def test_every_channel_at_once() -> None:
    configured = from_env(
        {
            **TWILIO,
            "ONCALL_SMS_TO": "+1 (555) 010-4242",
            "ONCALL_MAIL_TO": "oncall@clinic.example",
            "ONCALL_WEBHOOK_URL": "https://pager.example/hook",
            "ONCALL_WEBHOOK_SECRET": GOOD_SECRET,
            "CONSOLE_PUBLIC_URL": "https://console.clinic.example/",
        }
    )
    assert configured.channels() == ["sms", "mail", "webhook"]
    assert configured.console_url == "https://console.clinic.example"
    assert configured.sms is not None and configured.sms.to == "+15550104242"
    assert configured.mail is not None and (configured.mail.host, configured.mail.port) == ("localhost", 25)
    assert configured.webhook is not None and configured.webhook.secret == GOOD_SECRET


@pytest.mark.parametrize(
    ("raw", "address"),
    [
        ("relay.internal:2525", ("relay.internal", 2525)),
        ("relay.internal", ("relay.internal", 25)),
        ("[::1]:587", ("::1", 587)),
    ],
)
def test_smtp_relay_addresses(raw: str, address: tuple[str, int]) -> None:
    mail = from_env({"ONCALL_MAIL_TO": "oncall@clinic.example", "ONCALL_SMTP": raw}).mail
    assert mail is not None and (mail.host, mail.port) == address


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ONCALL_MAIL_TO": "oncall at clinic"}, "ONCALL_MAIL_TO"),
        ({"ONCALL_MAIL_TO": "a@b.example\r\nBcc: x@evil.example"}, "ONCALL_MAIL_TO"),
        ({"ONCALL_MAIL_TO": "a@b.example, c@d.example"}, "ONCALL_MAIL_TO"),
        ({"ONCALL_MAIL_TO": "a@b.example", "ONCALL_MAIL_FROM": "nobody"}, "ONCALL_MAIL_FROM"),
        ({"ONCALL_MAIL_TO": "a@b.example", "ONCALL_SMTP": "relay:smtp"}, "ONCALL_SMTP"),
        ({"ONCALL_MAIL_TO": "a@b.example", "ONCALL_SMTP": "relay:70000"}, "ONCALL_SMTP"),
        ({"ONCALL_SMS_TO": "call the doctor"}, "ONCALL_SMS_TO"),
        ({"ONCALL_SMS_TO": "+15550104242"}, "TWILIO_ACCOUNT_SID"),
        ({**TWILIO, "TWILIO_FROM_NUMBER": "", "ONCALL_SMS_TO": "+15550104242"}, "TWILIO_FROM_NUMBER"),
        ({"ONCALL_WEBHOOK_URL": "ftp://pager.example"}, "ONCALL_WEBHOOK_URL"),
        ({"ONCALL_WEBHOOK_URL": "https://pager.example/hook"}, "ONCALL_WEBHOOK_SECRET"),
        ({"ONCALL_MAIL_TO": "a@b.example", "CONSOLE_PUBLIC_URL": "console.example"}, "CONSOLE_PUBLIC_URL"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(env: dict[str, str], variable: str) -> None:
    error = refusal(env)
    assert error.variable == variable and variable in str(error)


def test_production_wants_https_and_real_secrets() -> None:
    hook = {"ONCALL_WEBHOOK_URL": "https://pager.example/hook", "ONCALL_WEBHOOK_SECRET": GOOD_SECRET}
    assert from_env({**PRODUCTION, **hook}).webhook is not None
    assert refusal({**PRODUCTION, **hook, "ONCALL_WEBHOOK_URL": "http://pager.example/hook"}).variable == (
        "ONCALL_WEBHOOK_URL"
    )
    assert refusal({**PRODUCTION, **hook, "ONCALL_WEBHOOK_SECRET": "short"}).variable == "ONCALL_WEBHOOK_SECRET"
    assert refusal({**PRODUCTION, **hook, "CONSOLE_PUBLIC_URL": "http://console"}).variable == "CONSOLE_PUBLIC_URL"
    assert from_env({**hook, "ONCALL_WEBHOOK_SECRET": "short"}).webhook is not None, "development: any secret"


def test_production_sms_needs_a_real_twilio_token_but_not_the_channels_id_secret() -> None:
    sms = {**PRODUCTION, **TWILIO, "ONCALL_SMS_TO": "+15550104242"}
    configured = from_env(sms)  # SMS_ID_SECRET is the SMS channel's, not needed to send
    assert configured.sms is not None and configured.sms.twilio.auth_token == TWILIO["TWILIO_AUTH_TOKEN"]
    assert refusal({**sms, "TWILIO_AUTH_TOKEN": "short"}).variable == "TWILIO_AUTH_TOKEN"
    assert refusal({**sms, "TWILIO_AUTH_TOKEN": ""}).variable == "TWILIO_AUTH_TOKEN"


def test_the_error_is_a_settings_error() -> None:
    """So whatever checks settings at start (bot/production.py, the servers) treats it like the others."""
    from bot.settings import SettingsError

    assert issubclass(config.OncallSettingError, SettingsError)
