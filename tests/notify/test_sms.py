"""The notice by text, through the project's Twilio sender pointed at a local fake of Twilio's API."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from bot.notify import config, sms
from bot.notify.notice import build
from tests.notify.conftest import ACCOUNT, FROM_NUMBER, ONCALL_NUMBER, TWILIO_TOKEN, HttpReceiver

AT = dt.datetime(2026, 11, 29, 17, 0, tzinfo=dt.timezone.utc)


def test_twilio_gets_the_notice_for_the_oncall_number(
    fake_twilio: HttpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONCALL_SMS_TO", ONCALL_NUMBER)
    route = config.from_env().sms
    assert route is not None
    notice = build(4, "callback", AT, "https://console.example", None)
    where = sms.send(notice, route)
    assert where.startswith("*********42 (SM") and ONCALL_NUMBER not in where, "masked for the log"
    [request] = fake_twilio.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request.form() == {"To": ONCALL_NUMBER, "From": FROM_NUMBER, "Body": notice.text()}
    credentials = base64.b64decode(request.headers["Authorization"].removeprefix("Basic ")).decode()
    assert credentials == f"{ACCOUNT}:{TWILIO_TOKEN}"
