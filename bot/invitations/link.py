"""The invitation link: a signed, expiring token naming only a random invitation id.

``<invitation_id>.<expires>.<signature>`` (about 45 characters), signed with
``INVITE_LINK_SECRET`` for the purpose "invitation", so checking it needs no table and a
token made for anything else (a patient's copy, a browser key) never fits. The store still
checks that the invitation was not revoked or locked (``store.by_token``).

A browser that passed the date-of-birth check gets a second token, the browser key
``b1.<invitation_id>.<issued>.<signature>`` (purpose "invitation-browser"), kept in an
HttpOnly cookie for ``INVITE_BROWSER_HOURS``.
"""

from __future__ import annotations

import datetime as dt

from bot import settings
from bot.signed_token import LinkError, Signer, utcnow

__all__ = [
    "BROWSER_KEY_PREFIX",
    "DEVELOPMENT_SECRET",
    "PATH",
    "SECRET_ENV",
    "LinkError",
    "browser_key",
    "check_browser_key",
    "named_invitation",
    "secret",
    "sign",
    "url",
    "verify",
]

SECRET_ENV = "INVITE_LINK_SECRET"
DEVELOPMENT_SECRET = "development-only-invite-link-secret-never-in-production"
PATH = "/i"  # the root route the web channel serves the invitation page on (short, for a text)
BROWSER_KEY_PREFIX = "b1."

_LINKS = Signer(b"invitation", SECRET_ENV, DEVELOPMENT_SECRET)
_BROWSERS = Signer(b"invitation-browser", SECRET_ENV, DEVELOPMENT_SECRET)


def secret() -> str:
    """The signing secret (also the key of the date-of-birth HMAC); production refuses a stand-in."""
    return _LINKS.secret()


def sign(invitation_id: str, expires: dt.datetime) -> str:
    """The token of invitation ``invitation_id``, working until ``expires``."""
    return _LINKS.sign(invitation_id, expires)


def verify(token: str, now: dt.datetime | None = None) -> str:
    """The invitation id a token names; ``LinkError`` (``.expired`` set when only too old) otherwise."""
    return _LINKS.open(token, now)[0]


def named_invitation(token: str) -> str | None:
    """The invitation id a genuine link names, expired or not; None for a link that is not ours.

    Opens nothing: it lets the page of an expired link say so in the invitation's language.
    """
    try:
        return _LINKS.open(token, _BEFORE_ANY_LINK)[0]
    except LinkError:
        return None


# A moment before any link was signed, at which every genuine link is still unexpired.
_BEFORE_ANY_LINK = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def url(token: str) -> str:
    """The address a patient opens: ``PUBLIC_BASE_URL/i/<token>``."""
    return f"{settings.public_base_url()}{PATH}/{token}"


def browser_key(invitation_id: str, now: dt.datetime | None = None) -> str:
    """A key saying "this browser passed the date of birth of ``invitation_id``", issued ``now``."""
    return BROWSER_KEY_PREFIX + _BROWSERS.sign(invitation_id, now or utcnow())


def check_browser_key(key: str, now: dt.datetime | None = None) -> str:
    """The invitation id of a genuine browser key younger than ``INVITE_BROWSER_HOURS``; ``LinkError`` otherwise."""
    if not key.startswith(BROWSER_KEY_PREFIX):
        raise LinkError("not a valid link")
    max_age = dt.timedelta(hours=settings.invite_browser_hours())
    return _BROWSERS.open(key[len(BROWSER_KEY_PREFIX) :], now, max_age=max_age)[0]
