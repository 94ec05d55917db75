"""The invite command, ``python -m bot sms invite``, against a local fake of Twilio's REST API."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import pytest

from bot import content
from bot.channels.sms.store import SmsStore
from bot.channels.sms.text import sms_reply
from bot.channels.sms.twilio import SmsConfig
from tests.helpers.cli import run_bot
from tests.helpers.twilio import ACCOUNT, FROM, TOKEN, FakeTwilio

PATIENT = "+15550100"


@pytest.fixture
def invite_env(tmp_path: Path, fake_twilio: FakeTwilio) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "SMS_")) and key != "DATABASE_URL"
    }
    env.update(
        TWILIO_API_BASE=fake_twilio.base,
        TWILIO_ACCOUNT_SID=ACCOUNT,
        TWILIO_AUTH_TOKEN=TOKEN,
        TWILIO_FROM_NUMBER=FROM,
        SMS_ID_SECRET="invite-id-secret",
        DATABASE_URL=f"sqlite:///{tmp_path / 'sms.db'}",
    )
    return env


def run_invite(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_bot(env, "sms", "invite", *args)


def test_invite_posts_to_twilios_messages_api(invite_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    done = run_invite(invite_env, PATIENT)
    assert done.returncode == 0, done.stderr
    (request,) = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    expected_auth = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert request["authorization"] == f"Basic {expected_auth}"
    assert str(request["content_type"]).startswith("application/x-www-form-urlencoded")
    form = request["form"]
    assert isinstance(form, dict)
    assert form["To"] == PATIENT
    assert form["From"] == FROM
    assert form["Body"] == sms_reply("invite")
    assert content.clinic().name in form["Body"]
    assert "STOP" in form["Body"] and "HELP" in form["Body"]
    assert "SM" + "1".zfill(32) in done.stdout
    assert PATIENT not in done.stdout + done.stderr, "the number is masked in the output"


def test_invite_with_own_text(invite_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    done = run_invite(invite_env, "+1 555 010 0123", "--body", "Your **visit** is on Monday.")
    assert done.returncode == 0, done.stderr
    (request,) = fake_twilio.requests
    form = request["form"]
    assert isinstance(form, dict)
    assert form == {
        "To": "+15550100123",
        "From": FROM,
        "Body": "Your visit is on Monday.",
    }


def test_invite_refuses_a_number_that_opted_out(invite_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    config = SmsConfig.from_env(invite_env)
    store = SmsStore(invite_env["DATABASE_URL"])
    store.set_opted_out(config.conversation_id(PATIENT), True, "stop")
    done = run_invite(invite_env, PATIENT)
    assert done.returncode == 1
    assert "opted out" in done.stderr
    assert fake_twilio.requests == []


def test_invite_reports_twilios_refusal(invite_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_with = (
        400,
        {"code": 21211, "message": "Invalid 'To' Phone Number"},
    )
    done = run_invite(invite_env, PATIENT)
    assert done.returncode == 1
    assert "21211" in done.stderr and "Invalid 'To' Phone Number" in done.stderr


def test_invite_needs_real_credentials(invite_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    del invite_env["TWILIO_AUTH_TOKEN"]
    del invite_env["TWILIO_FROM_NUMBER"]
    done = run_invite(invite_env, PATIENT)
    assert done.returncode == 1
    assert "TWILIO_AUTH_TOKEN" in done.stderr and "TWILIO_FROM_NUMBER" in done.stderr
    assert fake_twilio.requests == []


def test_invite_rejects_a_number_that_is_not_international(invite_env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    done = run_invite(invite_env, "555-0100")
    assert done.returncode == 2
    assert "international" in done.stderr
    assert fake_twilio.requests == []


def test_config_reads_the_environment() -> None:
    config = SmsConfig.from_env(
        {
            "TWILIO_AUTH_TOKEN": "t",
            "SMS_ID_SECRET": "s",
            "TWILIO_API_BASE": "http://127.0.0.1:1/",
            "SMS_PUBLIC_URL": "https://x.example.org/webhooks/sms/webhook",
        }
    )
    assert config.insecure == ()
    assert config.api_base == "http://127.0.0.1:1"
    assert config.public_url == "https://x.example.org/webhooks/sms/webhook"
    dev = SmsConfig.from_env({})
    assert dev.insecure == ("TWILIO_AUTH_TOKEN", "SMS_ID_SECRET")
    assert dev.api_base == "https://api.twilio.com"


def test_production_mode_refuses_missing_and_stand_in_secrets() -> None:
    """ASSISTANT_ENV=production: the SMS channel does not start on a stand-in (issue 14, docs/security.md)."""
    from bot import settings
    from bot.channels.sms import twilio

    production = {settings.ENVIRONMENT_ENV: settings.PRODUCTION, "SMS_ID_SECRET": "i" * 40}
    with pytest.raises(settings.SettingsError, match="TWILIO_AUTH_TOKEN"):
        SmsConfig.from_env(production)
    with pytest.raises(settings.SettingsError, match="TWILIO_AUTH_TOKEN"):
        SmsConfig.from_env({**production, "TWILIO_AUTH_TOKEN": twilio.DEV_AUTH_TOKEN})
    with pytest.raises(settings.SettingsError, match="SMS_ID_SECRET"):
        SmsConfig.from_env({**production, "TWILIO_AUTH_TOKEN": "a" * 32, "SMS_ID_SECRET": twilio.DEV_ID_SECRET})
    assert SmsConfig.from_env({**production, "TWILIO_AUTH_TOKEN": "a" * 32}).insecure == ()
