"""Local servers the on-call notices really go to: an SMTP relay, a webhook receiver, a fake of Twilio's API."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs

import pytest

from bot import notify
from devtools.launch import free_port
from tests.helpers.servers import http_server, serving

ONCALL_VARIABLES = (
    "ASSISTANT_ENV",
    "CONSOLE_PUBLIC_URL",
    "FLAG_REPEAT_WINDOW_SECONDS",
    "ONCALL_SMS_TO",
    "ONCALL_MAIL_TO",
    "ONCALL_MAIL_FROM",
    "ONCALL_SMTP",
    "ONCALL_WEBHOOK_URL",
    "ONCALL_WEBHOOK_SECRET",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_API_BASE",
    "SMS_ID_SECRET",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No on-call setting from the shell; short pauses between tries; every notice finished after the test."""
    for name in ONCALL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(notify, "_told_unconfigured", threading.Event())
    yield
    assert notify.wait(15), "an on-call notice was still being sent after the test"


def closed_port() -> int:
    """A port nothing listens on: a server that is down."""
    return free_port()


# --- SMTP -------------------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpRelay:
    address: str  # host:port
    received: list[Mail] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT (no STARTTLS offered)."""

    relay: SmtpRelay

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self.reply("220 test-relay ESMTP")
        sender, recipients = "", list[str]()
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test-relay")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                self.receive(sender, recipients)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            else:
                self.reply("502 not here")

    def receive(self, sender: str, recipients: list[str]) -> None:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        parsed = message_from_bytes(b"".join(lines), policy=policy.default)
        self.relay.received.append(Mail(sender, recipients, parsed))
        self.relay.arrived.set()


@pytest.fixture
def smtp_relay() -> Iterator[SmtpRelay]:
    relay = SmtpRelay(address="")
    handler = type("Handler", (_SmtpHandler,), {"relay": relay})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    with serving(server) as address:
        relay.address = address
        yield relay


# --- HTTP: the webhook's receiver and Twilio's Messages API ----------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(self.body.decode("utf-8")).items()}


@dataclass
class HttpReceiver:
    url: str
    requests: list[Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn; 2xx once they run out
    success: int = 200
    answer: dict[str, object] = field(default_factory=dict)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """Takes POSTs, records them and answers each with the next status of ``statuses``."""
    recorded = HttpReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            recorded.requests.append(Request(self.path, dict(self.headers.items()), body))
            status = recorded.statuses.pop(0) if recorded.statuses else recorded.success
            payload = json.dumps(recorded.answer).encode("utf-8")
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            return None

    with http_server(Handler) as url:
        recorded.url = url
        yield recorded


ACCOUNT = "AC" + "7" * 32
TWILIO_TOKEN = "oncall-test-twilio-token"
FROM_NUMBER = "+15550109999"
ONCALL_NUMBER = "+15550104242"


@pytest.fixture
def fake_twilio(receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> HttpReceiver:
    """The receiver answering as Twilio's Messages API, and the TWILIO_* settings pointing at it."""
    receiver.success, receiver.answer = 201, {"sid": "SM" + "0" * 32, "status": "queued"}
    for name, value in (
        ("TWILIO_ACCOUNT_SID", ACCOUNT),
        ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
        ("TWILIO_FROM_NUMBER", FROM_NUMBER),
        ("TWILIO_API_BASE", receiver.url),
    ):
        monkeypatch.setenv(name, value)
    return receiver
