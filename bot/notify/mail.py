"""The on-call notice as an e-mail, and the project's one SMTP sender.

``deliver`` is written to serve every mail the project sends (the consent checkpoints of
bot/records/checkpoint.py can use it too): a relay at host:port, STARTTLS when the relay offers it.
The TLS is opportunistic, as between mail servers: a local relay's self-signed certificate must not
stop an emergency notice, and the notice holds no patient data, only a link behind the console's
sign-in.
"""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage

from bot.notify.config import MailRoute
from bot.notify.notice import Notice

TIMEOUT_SECONDS = 10.0


def deliver(message: EmailMessage, host: str, port: int, timeout: float = TIMEOUT_SECONDS) -> None:
    """Hand ``message`` to the SMTP relay at ``host``:``port``; STARTTLS when offered. Raises on any failure."""
    with smtplib.SMTP(host, port, timeout=timeout) as client:
        client.ehlo()
        if client.has_extn("starttls"):
            client.starttls()
            client.ehlo()
        client.send_message(message)


def message(notice: Notice, route: MailRoute) -> EmailMessage:
    """The notice as a plain-text mail to the on-call address."""
    mail = EmailMessage()
    mail["Subject"] = notice.subject()
    mail["From"] = route.sender or f"on-call-notice@{socket.getfqdn()}"
    mail["To"] = route.to
    mail.set_content(
        notice.text() + "\n\nThe patient's messages are only in the console, after you sign in; "
        "nothing of them is in this mail.\n"
    )
    return mail


def send(notice: Notice, route: MailRoute) -> str:
    """Mail the notice; where it went, for the log."""
    deliver(message(notice, route), route.host, route.port)
    return f"{route.to} via {route.host}:{route.port}"
