"""The on-call notice of a new flag, end to end: ``flags.add`` on a real database, the notice at local servers."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time

import pytest

from bot import notify
from bot.notify import config
from bot.notify.notice import build
from bot.records import flags
from tests.notify.conftest import ONCALL_NUMBER, HttpReceiver, SmtpRelay, closed_port

SECRET = "notify-test-webhook-secret-0123456789"
CONVERSATION = "conv-patient-8c1f"
PATIENT_TEXT = "I can't breathe and my chest hurts, call me on +1 555 010 0777"
PATIENT_TRACES = ("breathe", "chest", "0100777", "010 0777", CONVERSATION, "breathing")


def no_patient_data(text: str) -> bool:
    return not any(trace in text for trace in PATIENT_TRACES)


def emergency(url: str, conversation: str = CONVERSATION) -> int:
    return flags.add(
        conversation, "rest", "emergency", PATIENT_TEXT, "breathing", url=url, client_address="203.0.113.9"
    )


@pytest.fixture
def webhook_configured(receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> HttpReceiver:
    monkeypatch.setenv("ONCALL_WEBHOOK_URL", receiver.url + "/oncall")
    monkeypatch.setenv("ONCALL_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("CONSOLE_PUBLIC_URL", "https://console.clinic.example")
    return receiver


def test_a_new_emergency_sends_one_notice_and_a_counted_repeat_none(
    database_url: str, webhook_configured: HttpReceiver
) -> None:
    first = emergency(database_url)
    assert notify.wait(10)
    repeat = emergency(database_url)  # the same patient again: counted on the open flag
    assert repeat == first and notify.wait(10)
    [request] = webhook_configured.requests
    body = json.loads(request.body)
    assert body["flag_id"] == first and body["kind"] == "emergency"
    assert body["link"] == f"https://console.clinic.example/flags/{first}"
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, request.headers["X-Signature-256"])
    assert no_patient_data(request.body.decode())
    [flag] = flags.open_flags(database_url)
    assert flag.count == 2
    assert body["created_at"] == flag.created_at.isoformat(timespec="seconds")


def test_callbacks_are_notified_and_other_kinds_are_not(database_url: str, webhook_configured: HttpReceiver) -> None:
    for kind in ("medication", "candidacy", "teachback", "decision"):
        flags.add(CONVERSATION, "rest", kind, PATIENT_TEXT, url=database_url)
    callback = flags.add(CONVERSATION, "sms", "callback", PATIENT_TEXT, url=database_url)
    assert notify.wait(10)
    assert [json.loads(r.body)["flag_id"] for r in webhook_configured.requests] == [callback]
    assert json.loads(webhook_configured.requests[0].body)["kind"] == "callback"


def test_every_configured_channel_gets_the_notice_without_patient_data(
    sqlite_url: str,
    smtp_relay: SmtpRelay,
    fake_twilio: HttpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ONCALL_MAIL_TO", "oncall@clinic.example")
    monkeypatch.setenv("ONCALL_SMTP", smtp_relay.address)
    monkeypatch.setenv("ONCALL_SMS_TO", ONCALL_NUMBER)
    flag_id = emergency(sqlite_url)
    assert notify.wait(10)
    link = f"http://localhost:5080/flags/{flag_id}"
    [mail] = smtp_relay.received
    mail_text = mail.message.as_string()
    assert link in mail.message.get_content() and no_patient_data(mail_text)
    [text] = fake_twilio.requests
    assert text.form()["To"] == ONCALL_NUMBER and link in text.form()["Body"]
    assert no_patient_data(text.form()["Body"])


def test_a_channel_that_is_down_never_reaches_the_patient_and_is_retried_then_logged(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", 0.2)  # tries at 0, 0.2, 0.6 and 1.4 s
    monkeypatch.setenv("ONCALL_MAIL_TO", "oncall@clinic.example")
    monkeypatch.setenv("ONCALL_SMTP", f"127.0.0.1:{closed_port()}")
    caplog.set_level(logging.INFO, logger="bot.notify")
    started = time.monotonic()
    flag_id = emergency(sqlite_url)
    assert time.monotonic() - started < 1.0, "flags.add did not wait for the tries"
    assert [flag.id for flag in flags.open_flags(sqlite_url)] == [flag_id]
    assert notify.wait(15)
    records = [r for r in caplog.records if r.name == "bot.notify"]
    tries = [r for r in records if r.levelno == logging.WARNING]
    [failure] = [r for r in records if r.levelno == logging.ERROR]
    assert len(tries) == notify.ATTEMPTS - 1 and "try 1 of 4 failed" in tries[0].getMessage()
    assert f"mail notice for emergency flag #{flag_id} NOT sent after 4 tries" in failure.getMessage()
    assert all(no_patient_data(r.getMessage()) and len(r.getMessage()) < 400 for r in records)


def test_a_try_that_fails_is_followed_by_one_that_works(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.statuses = [503, 502]
    configured = config.OncallConfig("http://c", webhook=config.WebhookRoute(receiver.url, SECRET))
    notice = build(1, "emergency", dt.datetime.now(dt.timezone.utc), configured.console_url, None)
    caplog.set_level(logging.INFO, logger="bot.notify")
    [thread] = notify.start(notice, configured, attempts=3, backoff=0.01)
    thread.join(10)
    assert len(receiver.requests) == 3 and len({r.body for r in receiver.requests}) == 1
    assert "webhook notice for emergency flag #1 sent" in caplog.records[-1].getMessage()


def test_nothing_configured_is_said_once(sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.notify")
    emergency(sqlite_url)
    emergency(sqlite_url, conversation="conv-2")
    [said] = [r for r in caplog.records if r.name == "bot.notify"]
    assert said.levelno == logging.INFO and "ONCALL_MAIL_TO" in said.getMessage()


def test_a_bad_setting_does_not_stop_the_flag(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ONCALL_MAIL_TO", "oncall@clinic.example")
    monkeypatch.setenv("ONCALL_SMTP", "relay:not-a-port")
    flag_id = emergency(sqlite_url)
    assert [flag.id for flag in flags.open_flags(sqlite_url)] == [flag_id]
    [error] = [r for r in caplog.records if r.name == "bot.notify"]
    assert error.levelno == logging.ERROR and "ONCALL_SMTP" in error.getMessage()
