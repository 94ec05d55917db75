"""Staff sign-in sessions kept on the server: a random token in an HTTP-only cookie, its hash in the database.

Server-side, so sign-out and the idle time-out end a session for real (a signed cookie alone
cannot be taken back). The CSRF token of a session's forms is an HMAC of its token under
``CONSOLE_SECRET_KEY`` (OWASP's synchronizer token, without storing a second secret).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from bot import settings
from bot.console import staff
from bot.console.tables import SESSIONS
from bot.records import db

COOKIE = "console_session"
# Last-seen is written at most this often: a page of polling does not write the database every time.
TOUCH_EVERY = dt.timedelta(seconds=30)


@dataclass(frozen=True)
class Session:
    token: str
    staff: staff.Staff

    def csrf_token(self, key: bytes) -> str:
        return csrf_token(self.token, key)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(session_token: str, key: bytes) -> str:
    return hmac.new(key, b"console csrf\n" + session_token.encode("utf-8"), hashlib.sha256).hexdigest()


def csrf_ok(session_token: str, given: str | None, key: bytes) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(session_token, key), str(given))


def start(staff_id: int, url: str | None = None, at: dt.datetime | None = None) -> str:
    """A new session for a signed-in account; returns the token for the cookie."""
    at = at or staff.now()
    token = secrets.token_urlsafe(32)
    with db.connect(url or settings.database_url()).begin() as connection:
        connection.execute(
            SESSIONS.insert().values(token_hash=_hash(token), staff_id=staff_id, created_at=at, last_seen=at)
        )
    return token


def find(
    token: str | None, url: str | None = None, at: dt.datetime | None = None, touch: bool = True
) -> Session | None:
    """The live session of ``token``: not ended, used within ``CONSOLE_IDLE_MINUTES``, its account active.

    An idle session is ended here, so it cannot come back. A live one's last-seen time moves on,
    unless ``touch`` is False: a page polling by itself is not a person at the screen.
    """
    if not token:
        return None
    at = at or staff.now()
    idle = dt.timedelta(minutes=settings.console_idle_minutes())
    with db.connect(url or settings.database_url()).begin() as connection:
        row = (
            connection.execute(
                sa.select(SESSIONS).where(SESSIONS.c.token_hash == _hash(token), SESSIONS.c.ended_at.is_(None))
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        last_seen = db.as_utc(row["last_seen"])
        assert last_seen is not None
        if at - last_seen > idle:
            connection.execute(SESSIONS.update().where(SESSIONS.c.token_hash == row["token_hash"]).values(ended_at=at))
            return None
        if touch and at - last_seen > TOUCH_EVERY:
            connection.execute(SESSIONS.update().where(SESSIONS.c.token_hash == row["token_hash"]).values(last_seen=at))
    account = staff.get(int(row["staff_id"]), url)
    if account is None or not account.active:
        return None
    return Session(token, account)


def end(token: str, url: str | None = None, at: dt.datetime | None = None) -> None:
    """Sign out: the session ends now, whatever its cookie says later."""
    with db.connect(url or settings.database_url()).begin() as connection:
        connection.execute(
            SESSIONS.update()
            .where(SESSIONS.c.token_hash == _hash(token), SESSIONS.c.ended_at.is_(None))
            .values(ended_at=at or staff.now())
        )


def end_all(staff_id: int, url: str | None = None) -> None:
    """End every session of an account (after a password change)."""
    with db.connect(url or settings.database_url()).begin() as connection:
        connection.execute(
            SESSIONS.update()
            .where(SESSIONS.c.staff_id == staff_id, SESSIONS.c.ended_at.is_(None))
            .values(ended_at=staff.now())
        )
