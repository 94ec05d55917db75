"""The notice by e-mail, received by a local SMTP relay."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.notify import mail
from bot.notify.config import MailRoute
from bot.notify.notice import build
from tests.notify.conftest import SmtpRelay, closed_port

AT = dt.datetime(2026, 11, 29, 17, 0, tzinfo=dt.timezone.utc)


def route(relay: SmtpRelay, sender: str | None = "assistant@clinic.example") -> MailRoute:
    host, port = relay.address.rsplit(":", 1)
    return MailRoute("oncall@clinic.example", sender, host, int(port))


def test_the_relay_receives_the_notice(smtp_relay: SmtpRelay) -> None:
    notice = build(7, "emergency", AT, "https://console.example", None)
    assert mail.send(notice, route(smtp_relay)) == f"oncall@clinic.example via {smtp_relay.address}"
    [received] = smtp_relay.received
    assert received.sender == "assistant@clinic.example" and received.recipients == ["oncall@clinic.example"]
    assert received.message["Subject"] == "EMERGENCY flag #7 is waiting"
    body = received.message.get_content()
    assert "https://console.example/flags/7" in body and notice.text() in body


def test_without_a_sender_the_host_names_it(smtp_relay: SmtpRelay) -> None:
    mail.send(build(8, "callback", AT, "http://c", None), route(smtp_relay, sender=None))
    assert smtp_relay.received[0].message["From"].startswith("on-call-notice@")


def test_a_relay_that_is_down_raises() -> None:
    down = MailRoute("oncall@clinic.example", None, "127.0.0.1", closed_port())
    with pytest.raises(OSError):
        mail.send(build(9, "emergency", AT, "http://c", None), down)
