"""Sending invitations (bot/invitations/send.py) and ``python -m bot invite``, against a fake Twilio."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bot import content
from bot.channels.sms.store import SmsStore
from bot.channels.sms.text import plain_text
from bot.channels.sms.twilio import SmsConfig, TwilioApiError
from bot.content import ContentError, languages
from bot.content.dates import spoken_date
from bot.content.files import load_yaml
from bot.content.messages import fill
from bot.content.sms import SMS_FILE, parse_sms_texts
from bot.invitations import InvitationError, link, send, store
from bot.records import db
from tests.helpers.cli import run_bot
from tests.helpers.twilio import ACCOUNT, FROM, TOKEN, FakeTwilio
from tests.invitations.conftest import SMS_ID_SECRET

PHONE = "+15550100123"
REF = "MRN-778812"


@pytest.fixture
def env(tmp_path: Path, fake_twilio: FakeTwilio) -> dict[str, str]:
    """The command's environment: Twilio is the fake, the database a fresh file, the keys known."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "INVITE_", "DATABASE_"))}
    return {
        **clean,
        "TWILIO_API_BASE": fake_twilio.base,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": FROM,
        "SMS_ID_SECRET": SMS_ID_SECRET,
        "INVITE_LINK_SECRET": "invitation-tests-link-secret-0123456789",
        "INVITE_PHONE_KEY": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://chat.example-clinic.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
    }


def run_invite(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_bot(env, "invite", *args)


def stored(url: str) -> list[dict[str, object]]:
    with db.engine(url).connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(store.INVITATIONS))]


def use(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        if name.startswith(("TWILIO_", "SMS_", "INVITE_", "DATABASE_", "PUBLIC_")):
            monkeypatch.setenv(name, value)


def test_the_command_texts_the_link_through_twilio(env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    procedure = dt.datetime.now(content.clinic().timezone).date() + dt.timedelta(days=9)
    done = run_invite(env, PHONE, "--patient", REF, "--procedure-date", procedure.isoformat())
    assert done.returncode == 0, done.stderr
    (request,) = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    form = request["form"]
    assert isinstance(form, dict) and set(form) == {"To", "From", "Body"}
    assert form["To"] == PHONE and form["From"] == FROM
    body = str(form["Body"])
    assert content.clinic().name in body and "HELP" in body and "STOP" in body
    assert spoken_date(procedure) in body
    address = body.rsplit(" ", 1)[-1]
    assert address.startswith("https://chat.example-clinic.org/i/")
    (row,) = stored(env["DATABASE_URL"])
    assert row["message_sid"] == "SM" + "1".zfill(32) and row["patient_ref"] == REF
    assert link.verify(address.rsplit("/", 1)[-1]) == row["invitation_id"]
    # What the command prints: masked number, the id and the MessageSid, never the number or the link.
    assert "********23" in done.stdout and str(row["invitation_id"]) in done.stdout and "SM" in done.stdout
    assert PHONE not in done.stdout + done.stderr and address not in done.stdout + done.stderr


def test_a_dry_run_prints_the_text_and_sends_and_stores_nothing(
    env: dict[str, str],
    fake_twilio: FakeTwilio,
) -> None:
    done = run_invite(env, PHONE, "--patient", REF, "--dob", "1957-03-08", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert fake_twilio.requests == []
    assert "Dry run" in done.stdout and content.clinic().name in done.stdout and "/i/" in done.stdout
    assert stored(env["DATABASE_URL"]) == []


def test_an_opted_out_number_is_not_invited(env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    conversation = SmsConfig.from_env({"SMS_ID_SECRET": SMS_ID_SECRET}).conversation_id(PHONE)
    SmsStore(env["DATABASE_URL"]).set_opted_out(conversation, True, "stop")
    for extra in ((), ("--dry-run",)):
        done = run_invite(env, PHONE, "--patient", REF, *extra)
        assert done.returncode == 1
        assert "opted out" in done.stderr and "START" in done.stderr and "no invitation sent" in done.stderr
    assert fake_twilio.requests == [] and stored(env["DATABASE_URL"]) == []


def test_another_patients_number_needs_replace(env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    assert run_invite(env, PHONE, "--patient", REF).returncode == 0
    refused = run_invite(env, PHONE, "--patient", "MRN-999")
    assert refused.returncode == 1 and "another patient" in refused.stderr
    assert run_invite(env, PHONE, "--patient", "MRN-999", "--dry-run").returncode == 1
    assert len(fake_twilio.requests) == 1
    replaced = run_invite(env, PHONE, "--patient", "MRN-999", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert [row["revoked_at"] is None for row in stored(env["DATABASE_URL"])] == [False, True]


@pytest.mark.parametrize(
    "args",
    [
        ["555-0100", "--patient", REF],
        [PHONE, "--patient", "MRN 1"],
        [PHONE, "--patient", REF, "--procedure-date", "10/03/2030"],
        [PHONE, "--patient", REF, "--procedure-date", "2001-01-01"],
        [PHONE],
    ],
)
def test_bad_input_exits_2_and_sends_nothing(
    env: dict[str, str],
    fake_twilio: FakeTwilio,
    args: list[str],
) -> None:
    done = run_invite(env, *args)
    assert done.returncode == 2 and "error" in done.stderr
    assert fake_twilio.requests == []


def test_without_twilio_settings_nothing_is_stored(env: dict[str, str], fake_twilio: FakeTwilio) -> None:
    done = run_invite({k: v for k, v in env.items() if k != "TWILIO_ACCOUNT_SID"}, PHONE, "--patient", REF)
    assert done.returncode == 1 and "TWILIO_ACCOUNT_SID" in done.stderr
    assert stored(env["DATABASE_URL"]) == []


def test_an_invitation_twilio_refuses_is_revoked(
    env: dict[str, str],
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch, env)
    fake_twilio.fail_with = (400, {"code": 21211, "message": "The 'To' number is not a valid phone number."})
    with pytest.raises(TwilioApiError, match="21211"):
        asyncio.run(send.invite(PHONE, REF, url=env["DATABASE_URL"]))
    (row,) = stored(env["DATABASE_URL"])
    assert row["revoked_at"] is not None and row["message_sid"] is None


def test_invite_returns_what_was_sent(
    env: dict[str, str],
    fake_twilio: FakeTwilio,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use(monkeypatch, env)
    result = asyncio.run(send.invite(PHONE, REF, created_by="nurse.lee", url=env["DATABASE_URL"]))
    assert not result.dry_run and result.message_sid == "SM" + "1".zfill(32)
    assert result.body == fake_twilio.requests[0]["form"]["Body"]  # type: ignore[index]
    assert result.body.endswith(result.link) and result.invitation.created_by == "nurse.lee"
    assert store.by_token(result.link.rsplit("/", 1)[-1], env["DATABASE_URL"]) == store.get(
        result.invitation.invitation_id, env["DATABASE_URL"]
    )
    with pytest.raises(InvitationError, match="another patient"):
        asyncio.run(send.invite(PHONE, "MRN-999", dry_run=True, url=env["DATABASE_URL"]))


@pytest.mark.parametrize(
    ("name", "drop"),
    [("invitation", "{link}"), ("invitation", "STOP"), ("invitation_dated", "{date}"), ("invitation", "HELP")],
)
def test_the_invitation_text_must_keep_the_link_and_the_carrier_words(name: str, drop: str) -> None:
    raw = dict(load_yaml(SMS_FILE))
    raw[name] = str(raw[name]).replace(drop, "")
    with pytest.raises(ContentError, match=f"'{name}' must contain"):
        parse_sms_texts(raw)


# --- the patient's language ------------------------------------------------------------------


def spanish_sms(name: str, **values: str) -> str:
    """The Spanish text ``name`` of content/es/sms.yml as a phone gets it, filled as the clinic's Spanish."""
    with languages.use(languages.SPANISH):
        return plain_text(fill(content.sms_texts_in(languages.SPANISH)[name], **values))


def test_a_spanish_invitation_is_texted_in_spanish_and_stored_as_spanish(
    env: dict[str, str], fake_twilio: FakeTwilio
) -> None:
    procedure = dt.datetime.now(content.clinic().timezone).date() + dt.timedelta(days=9)
    done = run_invite(env, PHONE, "--patient", REF, "--procedure-date", procedure.isoformat(), "--lang", "es")
    assert done.returncode == 0, done.stderr
    body = str(fake_twilio.requests[0]["form"]["Body"])  # type: ignore[index]
    address = body.rsplit(" ", 1)[-1]
    assert body == spanish_sms("invitation_dated", link=address, date=spoken_date(procedure, "es"))
    assert body != send.compose(address.rsplit("/", 1)[-1], procedure)  # not the English text
    (row,) = stored(env["DATABASE_URL"])
    assert row["language"] == "es"


def test_an_invitation_is_english_unless_asked_and_only_in_a_language_we_have(
    env: dict[str, str], fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_invite(env, PHONE, "--patient", REF).returncode == 0
    assert [row["language"] for row in stored(env["DATABASE_URL"])] == ["en"]
    refused = run_invite(env, PHONE, "--patient", REF, "--lang", "fr")
    assert refused.returncode == 2 and "--lang" in refused.stderr
    use(monkeypatch, env)
    with pytest.raises(InvitationError, match="language"):
        asyncio.run(send.invite(PHONE, REF, dry_run=True, url=env["DATABASE_URL"], language="fr"))
    assert len(fake_twilio.requests) == 1


def test_a_spanish_dry_run_shows_the_spanish_text(
    env: dict[str, str], fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, env)
    result = asyncio.run(send.invite(PHONE, REF, dry_run=True, url=env["DATABASE_URL"], language="es"))
    assert result.body == spanish_sms("invitation", link=result.link)
    assert result.invitation.language == "es" and stored(env["DATABASE_URL"]) == []


def test_the_spoken_date_in_spanish() -> None:
    assert spoken_date(dt.date(2026, 9, 30), "es") == "miércoles 30 de septiembre"
    with languages.use(languages.SPANISH):
        assert spoken_date(dt.date(2026, 3, 10)) == "martes 10 de marzo"
    assert spoken_date(dt.date(2026, 3, 10), "en") == "Tuesday, March 10"
    week = [spoken_date(dt.date(2026, 3, 9) + dt.timedelta(days=n), "es").split()[0] for n in range(7)]
    assert week == ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
    months = [spoken_date(dt.date(2026, month, 1), "es").rsplit(" ", 1)[-1] for month in range(1, 13)]
    assert months == [
        "enero", "febrero", "marzo", "abril", "mayo", "junio",
        "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ]  # fmt: skip
