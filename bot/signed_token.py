"""Short HMAC-signed tokens that expire and are bound to one purpose, checked without a table.

Links sent to patients (their own copy of a record, their invitation) must be short enough
for a text message, so they are ``<subject>.<epoch>.<signature>`` rather than JWTs. The
purpose is signed in: a token made for one use never verifies for another, even under the
same secret. The signature keeps 128 bits of HMAC-SHA256.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from bot import settings

SIGNATURE_BYTES = 16
CLOCK_SKEW_SECONDS = 300  # servers' clocks may differ this much


class LinkError(ValueError):
    """A token that is not ours, altered, or expired (``expired`` tells which, for the page shown)."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def utcnow() -> dt.datetime:
    """The current time, aware UTC."""
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Signer:
    """Signs and opens tokens for one ``purpose`` with the secret in ``secret_env``."""

    purpose: bytes
    secret_env: str
    development_secret: str

    def secret(self) -> str:
        """The signing secret; production mode refuses a missing or development one (bot/production.py)."""
        return settings.secret(self.secret_env, self.development_secret) or self.development_secret

    def signature(self, *fields: str) -> str:
        """The base64url HMAC of the purpose and ``fields``, cut to ``SIGNATURE_BYTES``."""
        message = self.purpose + b"".join(b":" + field.encode() for field in fields)
        digest = hmac.new(self.secret().encode(), message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).decode().rstrip("=")

    def sign(self, subject: str, expires: dt.datetime | int) -> str:
        """``<subject>.<expires epoch>.<signature>``; ``subject`` must not contain a dot."""
        if "." in subject or not subject:
            raise ValueError("a token subject must be non-empty and have no dot")
        epoch = expires if isinstance(expires, int) else int(expires.timestamp())
        return f"{subject}.{epoch}.{self.signature(subject, str(epoch))}"

    def open(self, token: str, now: dt.datetime | None = None, max_age: dt.timedelta | None = None) -> tuple[str, int]:
        """The subject and epoch of a genuine, unexpired token; ``LinkError`` otherwise.

        Without ``max_age`` the epoch is when the token expires. With it, the epoch is when the
        token was issued and it works for ``max_age`` from then, so shortening the setting also
        shortens tokens already handed out.
        """
        parts = token.split(".")
        if len(parts) != 3 or not parts[0] or not _is_number(parts[1]):
            raise LinkError("not a valid link")
        subject, epoch = parts[0], int(parts[1])
        if not hmac.compare_digest(parts[2].encode(), self.signature(subject, str(epoch)).encode()):
            raise LinkError("not a valid link")
        moment = (now or utcnow()).timestamp()
        if max_age is not None and epoch > moment + CLOCK_SKEW_SECONDS:
            raise LinkError("not a valid link")  # issued in the future: not by a server of ours
        expires = epoch if max_age is None else epoch + max_age.total_seconds()
        if moment >= expires:
            raise LinkError("the link has expired", expired=True)
        return subject, epoch


def _is_number(text: str) -> bool:
    """ASCII digits only: ``int()`` would also take "²" or " 1", which no token of ours has."""
    return text.isascii() and text.isdigit()
