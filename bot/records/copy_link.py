"""The patient's own copy of their consent record: a signed link that expires.

After a decision the assistant sends the patient a link to the printable page of their
record (``bot.records.printable``), on whichever channel they use. The link carries a
token naming the record and when the link stops working (``PATIENT_COPY_HOURS``, 72 by
default), signed with ``PATIENT_COPY_SECRET`` (HMAC-SHA256, 128 bits kept), so the server
that serves the page (``bot.channels.copy``) needs no table of links and nobody can open a
record by guessing its number. The token is short (``<record>.<expiry>.<signature>``, about
40 characters) because it goes out by SMS; a JWT would be four times as long. Anyone who has
the link can open it until it expires, as with any emailed document link: the patient is
told so, and the page is never cached or indexed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from bot import settings

SECRET_ENV = "PATIENT_COPY_SECRET"
DEVELOPMENT_SECRET = "development-only-patient-copy-secret-never-in-production"
PURPOSE = b"patient-copy"  # signed in, so a signature made with this secret for anything else never fits
SIGNATURE_BYTES = 16
PATH = "/webhooks/copy/record"  # the route bot.channels.copy serves (Rasa prefixes an input channel's name)


class LinkError(ValueError):
    """A token that is not ours, altered, or expired (``expired`` tells which, for the page shown)."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def secret() -> str:
    """The signing secret; production mode refuses a missing or development one (bot/production.py)."""
    return settings.secret(SECRET_ENV, DEVELOPMENT_SECRET) or DEVELOPMENT_SECRET


def _signature(record_id: int, expires: int) -> str:
    digest = hmac.new(secret().encode(), PURPOSE + f":{record_id}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).decode().rstrip("=")


def sign(record_id: int, hours: int | None = None, now: dt.datetime | None = None) -> str:
    """A token for record ``record_id`` that works for ``hours`` (``PATIENT_COPY_HOURS`` when not given)."""
    issued = now or dt.datetime.now(dt.timezone.utc)
    expires = int((issued + dt.timedelta(hours=settings.copy_link_hours() if hours is None else hours)).timestamp())
    return f"{record_id}.{expires}.{_signature(record_id, expires)}"


def record_id(token: str, now: dt.datetime | None = None) -> int:
    """The record a token opens; ``LinkError`` when it is altered, not ours, or expired."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise LinkError("not a valid link")
    number, expires = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(parts[2], _signature(number, expires)):
        raise LinkError("not a valid link")
    if (now or dt.datetime.now(dt.timezone.utc)).timestamp() >= expires:
        raise LinkError("the link has expired", expired=True)
    return number


def link(record_id: int) -> str:
    """The full address a patient opens (``PUBLIC_BASE_URL`` + the route + a fresh token)."""
    return f"{settings.public_base_url()}{PATH}/{sign(record_id)}"
