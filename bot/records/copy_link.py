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

import datetime as dt

from bot import settings
from bot.signed_token import LinkError, Signer

__all__ = ["DEVELOPMENT_SECRET", "PATH", "PURPOSE", "SECRET_ENV", "LinkError", "link", "record_id", "secret", "sign"]

SECRET_ENV = "PATIENT_COPY_SECRET"
DEVELOPMENT_SECRET = "development-only-patient-copy-secret-never-in-production"
PURPOSE = b"patient-copy"  # signed in, so a signature made with this secret for anything else never fits
PATH = "/webhooks/copy/record"  # the route bot.channels.copy serves (Rasa prefixes an input channel's name)

_SIGNER = Signer(PURPOSE, SECRET_ENV, DEVELOPMENT_SECRET)


def secret() -> str:
    """The signing secret; production mode refuses a missing or development one (bot/production.py)."""
    return _SIGNER.secret()


def sign(record_id: int, hours: int | None = None, now: dt.datetime | None = None) -> str:
    """A token for record ``record_id`` that works for ``hours`` (``PATIENT_COPY_HOURS`` when not given)."""
    issued = now or dt.datetime.now(dt.timezone.utc)
    expires = issued + dt.timedelta(hours=settings.copy_link_hours() if hours is None else hours)
    return _SIGNER.sign(str(record_id), expires)


def record_id(token: str, now: dt.datetime | None = None) -> int:
    """The record a token opens; ``LinkError`` when it is altered, not ours, or expired."""
    subject = token.split(".", 1)[0]
    if not (subject.isascii() and subject.isdigit()):
        raise LinkError("not a valid link")
    return int(_SIGNER.open(token, now)[0])


def link(record_id: int) -> str:
    """The full address a patient opens (``PUBLIC_BASE_URL`` + the route + a fresh token)."""
    return f"{settings.public_base_url()}{PATH}/{sign(record_id)}"
