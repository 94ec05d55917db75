"""Production mode's list of secrets (bot/production.py): which a deployment needs, and every refusal named."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot import production, settings

PRODUCTION = {settings.ENVIRONMENT_ENV: settings.PRODUCTION}


def real(name: str) -> str:
    return f"{name.lower()}-{'0123456789abcdef' * 3}"


def credentials(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "credentials.yml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(report: production.Report) -> set[str]:
    return {refusal.name for refusal in report.refusals}


def test_the_projects_credentials_need_the_web_and_sms_secrets() -> None:
    channels = production.Channels.from_credentials(settings.PROJECT_ROOT / "credentials.yml")
    assert channels.web and channels.sms and channels.rest and not channels.web_requires_token
    report = production.check(env={}, credentials=settings.PROJECT_ROOT / "credentials.yml")
    assert refused(report) == {
        "ACTION_SERVER_TOKEN",
        "CONSENT_RECORD_KEY",
        "PATIENT_COPY_SECRET",
        "PUBLIC_BASE_URL",
        "WIDGET_SESSION_SECRET",
        "TWILIO_AUTH_TOKEN",
        "SMS_ID_SECRET",
        "INVITE_LINK_SECRET",
        "INVITE_PHONE_KEY",
        "CONSOLE_SECRET_KEY",
        "CONSOLE_PUBLIC_URL",
    }
    # Optional ones: REST without a token refuses every request in production; no portal, no tokens.
    assert {"REST_API_TOKEN", "WIDGET_JWT_SECRET", "RASA_API_TOKEN"} <= set(report.not_needed)


def test_a_channel_that_is_off_needs_no_secret(tmp_path: Path) -> None:
    rest_only = credentials(tmp_path, "bot.channels.rest.channel.SecureRestInput:\n  max_body_bytes: 1000\n")
    report = production.check((production.RASA_SERVER,), env={}, credentials=rest_only)
    assert refused(report) == {"ACTION_SERVER_TOKEN", "PATIENT_COPY_SECRET"}


INVITE_SECRETS = {"INVITE_LINK_SECRET", "INVITE_PHONE_KEY"}


def test_each_server_is_checked_for_its_own_secrets() -> None:
    actions = production.check((production.ACTION_SERVER,), env={})
    assert refused(actions) == {
        "ACTION_SERVER_TOKEN",
        "CONSENT_RECORD_KEY",
        "PATIENT_COPY_SECRET",
        "PUBLIC_BASE_URL",
        *INVITE_SECRETS,
    }
    # The console sends invitations by SMS: with the SMS channel on it needs the SMS and invitation secrets.
    console = production.check((production.CONSOLE_SERVER,), env={})
    assert refused(console) == {
        "CONSOLE_SECRET_KEY",
        "CONSOLE_PUBLIC_URL",
        "TWILIO_AUTH_TOKEN",
        "SMS_ID_SECRET",
        *INVITE_SECRETS,
    }
    https = {
        "CONSOLE_SECRET_KEY": real("c"),
        "CONSOLE_PUBLIC_URL": "https://console.clinic.example",
        "TWILIO_AUTH_TOKEN": real("t"),
        "SMS_ID_SECRET": real("s"),
        "INVITE_LINK_SECRET": real("i"),
        "INVITE_PHONE_KEY": Fernet.generate_key().decode(),
    }
    assert refused(production.check((production.CONSOLE_SERVER,), env=https)) == set()


def test_invitation_secrets_refuse_missing_development_and_non_fernet_values(tmp_path: Path) -> None:
    from bot.invitations import link, phone

    sms = credentials(tmp_path, "bot.channels.sms.channel.SmsInput:\n  choice_ttl_minutes: 60\n")
    (tmp_path / "rest").mkdir()
    rest_only = credentials(tmp_path / "rest", "rest:\n")
    key = Fernet.generate_key().decode()

    def refusals(env: dict[str, str], file: Path = sms) -> set[str]:
        return refused(production.check((production.CONSOLE_SERVER,), env=env, credentials=file)) & INVITE_SECRETS

    assert refusals({}) == INVITE_SECRETS
    assert refusals({}, rest_only) == set()  # no SMS channel, no invitations
    assert refusals({"INVITE_LINK_SECRET": link.DEVELOPMENT_SECRET, "INVITE_PHONE_KEY": phone.DEVELOPMENT_KEY}) == (
        INVITE_SECRETS
    )
    assert refusals({"INVITE_LINK_SECRET": real("i"), "INVITE_PHONE_KEY": f"{key},{phone.DEVELOPMENT_KEY}"}) == {
        "INVITE_PHONE_KEY"
    }
    not_fernet = production.check(
        (production.CONSOLE_SERVER,),
        env={"INVITE_LINK_SECRET": real("i"), "INVITE_PHONE_KEY": real("p")},
        credentials=sms,
    )
    (reason,) = [refusal.reason for refusal in not_fernet.refusals if refusal.name == "INVITE_PHONE_KEY"]
    assert "not a Fernet key" in reason
    assert refusals(
        {"INVITE_LINK_SECRET": real("i"), "INVITE_PHONE_KEY": f"{key}, {Fernet.generate_key().decode()}"}
    ) == (set())


def test_a_bad_on_call_setting_stops_the_action_server() -> None:
    env = {
        "ONCALL_WEBHOOK_URL": "http://pager.clinic.example/hook",
        "ONCALL_WEBHOOK_SECRET": real("w"),
        "CONSOLE_PUBLIC_URL": "https://console.clinic.example",
    }
    refusals = refused(production.check((production.ACTION_SERVER,), env=env))
    assert "ONCALL_WEBHOOK_URL" in refusals


def test_an_optional_secret_once_set_must_be_real_and_tokens_required_need_the_key(tmp_path: Path) -> None:
    web = credentials(tmp_path, "bot.channels.web.channel.SecureSocketIOInput:\n  require_token: true\n")
    env = {
        "ACTION_SERVER_TOKEN": real("a"),
        "PATIENT_COPY_SECRET": real("p"),
        "WIDGET_SESSION_SECRET": real("w"),
        "REST_API_TOKEN": "short",
    }
    report = production.check((production.RASA_SERVER,), env=env, credentials=web)
    assert refused(report) == {"WIDGET_JWT_SECRET", "REST_API_TOKEN"}
    ready = production.check(
        (production.RASA_SERVER,),
        env={**env, "REST_API_TOKEN": real("r"), "WIDGET_JWT_SECRET": real("j")},
        credentials=web,
    )
    assert not ready.refusals and set(ready.checked) >= {"WIDGET_JWT_SECRET", "REST_API_TOKEN"}


def test_a_development_stand_in_is_refused_by_its_owners_value() -> None:
    from bot.records import consent_store

    report = production.check(
        (production.ACTION_SERVER,),
        env={
            "ACTION_SERVER_TOKEN": real("a"),
            "CONSENT_RECORD_KEY": consent_store.DEVELOPMENT_KEY,
            "PATIENT_COPY_SECRET": real("p"),
            "PUBLIC_BASE_URL": "https://chat.example.org",
            "INVITE_LINK_SECRET": real("i"),
            "INVITE_PHONE_KEY": Fernet.generate_key().decode(),
        },
    )
    assert refused(report) == {"CONSENT_RECORD_KEY"}


def test_patient_links_need_an_https_address_in_production() -> None:
    env = {"PUBLIC_BASE_URL": "http://chat.example.org", "PATIENT_COPY_HOURS": "0"}
    report = production.check((production.ACTION_SERVER,), env=env)
    assert {"PUBLIC_BASE_URL", "PATIENT_COPY_HOURS"} <= refused(report)


@pytest.mark.parametrize(
    ("arguments", "refuses"),
    [
        (["--enable-api"], True),
        (["--enable-api", "--auth-token", "secret"], True),
        (["--enable-api", f"--auth-token={real('t')}"], False),
        (["--enable-api", "--jwt-secret", "key"], False),
        ([], False),
    ],
)
def test_rasas_http_api_never_runs_without_a_real_token(arguments: list[str], refuses: bool) -> None:
    env = {"ACTION_SERVER_TOKEN": real("a")}
    report = production.check((production.RASA_SERVER,), env=env, credentials="/nonexistent", rasa_arguments=arguments)
    assert ("RASA_API_TOKEN" in refused(report)) is refuses


def test_enforce_does_nothing_in_development_and_names_everything_in_production(tmp_path: Path) -> None:
    production.enforce(production.RASA_SERVER, env={})
    with pytest.raises(settings.SettingsError) as raised:
        production.enforce(production.RASA_SERVER, ["--credentials", str(tmp_path / "none.yml")], env=PRODUCTION)
    assert "ACTION_SERVER_TOKEN" in str(raised.value) and "rasa server" in str(raised.value)
