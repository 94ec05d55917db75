"""A local fake of Twilio's Messages API: what a client posted, answered as Twilio answers (or refuses)."""

from __future__ import annotations

import json
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import requests
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from bot.channels.sms.twilio import DEV_AUTH_TOKEN
from tests.helpers.servers import http_server

ACCOUNT = "AC" + "1" * 32
TOKEN = "invite-test-token"
FROM = "+15550109999"


# What the SMS channel tests sign incoming messages with (their channel is configured with these).
FORM_TOKEN = "test-auth-token-0123456789abcdef"
FORM_ACCOUNT = "AC" + "0" * 32
WEBHOOK = "/webhooks/sms/webhook"


def twilio_form(sender: str, body: str, sid: str | None = None, account: str = FORM_ACCOUNT) -> dict[str, str]:
    """The fields Twilio posts for an incoming SMS, blanks included as Twilio sends them."""
    sid = sid or "SM" + uuid.uuid4().hex
    return {
        "ToCountry": "US",
        "ToState": "NY",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "NY",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "US",
        "To": "+15550109999",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def sign(url: str, fields: Mapping[str, str], token: str = FORM_TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it."""
    return str(RequestValidator(token).compute_signature(url, dict(fields)))


def messages_of(twiml: str) -> list[str]:
    """The texts of a TwiML answer, unescaped by a real XML parser."""
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return [message.text or "" for message in root.findall("Message")]


def text_the_assistant(server: str, sender: str, body: str) -> list[str]:
    """A patient's text to a running assistant (``rasa_server``), signed as Twilio signs it; its replies.

    The server's TWILIO_AUTH_TOKEN and TWILIO_ACCOUNT_SID are this process's, else the development ones.
    """
    url = server.rstrip("/") + WEBHOOK
    fields = twilio_form(sender, body, account=os.environ.get("TWILIO_ACCOUNT_SID") or FORM_ACCOUNT)
    token = os.environ.get("TWILIO_AUTH_TOKEN") or DEV_AUTH_TOKEN
    signed_url = os.environ.get("SMS_PUBLIC_URL") or url
    answer = requests.post(
        url, data=fields, headers={"X-Twilio-Signature": sign(signed_url, fields, token)}, timeout=120
    )
    answer.raise_for_status()
    return messages_of(answer.text)


@dataclass
class FakeTwilio:
    """Records what a client posts to the Messages API and answers like Twilio."""

    base: str
    requests: list[dict[str, object]] = field(default_factory=list)
    fail_with: tuple[int, dict[str, object]] | None = None


@contextmanager
def fake_twilio_server() -> Iterator[FakeTwilio]:
    """The fake on a free loopback port until the block ends (``tests/conftest.py: fake_twilio`` is the fixture)."""
    fake = FakeTwilio(base="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode("utf-8")
            fake.requests.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization", ""),
                    "content_type": self.headers.get("Content-Type", ""),
                    "form": {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()},
                }
            )
            status, answer = fake.fail_with or (
                201,
                {"sid": f"SM{len(fake.requests):032d}", "status": "queued"},
            )
            payload = json.dumps(answer).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return None

    with http_server(Handler) as url:
        fake.base = url
        yield fake
