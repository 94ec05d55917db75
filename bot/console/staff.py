"""Staff accounts: who may sign in to the console, with which role, and the lock-out after wrong passwords.

Passwords are hashed with Argon2id (argon2-cffi, memory-hard; its parameters travel in the hash,
and a hash made with older ones is upgraded at the next sign-in). A new account gets a one-time
password that must be changed at the first sign-in, so no admin knows a nurse's password.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot import settings
from bot.console.tables import STAFF
from bot.records import db

ROLES = ("nurse", "admin")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_CHARS = 12  # NIST SP 800-63B asks at least 8; a console of patient data asks more
_HASHER = PasswordHasher()
# Verified against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class StaffError(ValueError):
    """A name, role or password that cannot be used; the message says why, in words for the screen."""


@dataclass(frozen=True)
class Staff:
    id: int
    name: str
    role: str
    must_change_password: bool
    active: bool
    locked_until: dt.datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _staff(row: sa.engine.RowMapping) -> Staff:
    return Staff(
        id=int(row["id"]),
        name=str(row["name"]),
        role=str(row["role"]),
        must_change_password=bool(row["must_change_password"]),
        active=bool(row["active"]),
        locked_until=db.as_utc(row["locked_until"]),
    )


def check_password(password: str, name: str = "") -> None:
    """Refuse a password too short, or one that is the account's name."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise StaffError(f"A password needs at least {MIN_PASSWORD_CHARS} characters.")
    if name and name.lower() in password.lower():
        raise StaffError("A password must not contain the account's name.")


def add(name: str, role: str, url: str | None = None) -> tuple[Staff, str]:
    """Create an account; returns it and its one-time password (shown once, to be changed at first sign-in)."""
    name = name.strip().lower()
    if not NAME.match(name):
        raise StaffError("A name is 2 to 64 lower-case letters, digits, dots, dashes or underscores.")
    if role not in ROLES:
        raise StaffError(f"The role must be one of: {', '.join(ROLES)}.")
    one_time = secrets.token_urlsafe(12)
    with db.connect(url or settings.database_url()).begin() as connection:
        if connection.execute(sa.select(STAFF.c.id).where(STAFF.c.name == name)).first():
            raise StaffError(f"There is already an account named {name}.")
        new_id = connection.execute(
            STAFF.insert().values(
                name=name,
                role=role,
                password_hash=_HASHER.hash(one_time),
                must_change_password=True,
                failed_attempts=0,
                locked_until=None,
                active=True,
                created_at=now(),
            )
        ).inserted_primary_key[0]
    return Staff(int(new_id), name, role, True, True, None), one_time


def everyone(url: str | None = None) -> list[Staff]:
    with db.connect(url or settings.database_url()).connect() as connection:
        return [_staff(row) for row in connection.execute(sa.select(STAFF).order_by(STAFF.c.name)).mappings()]


def get(staff_id: int, url: str | None = None) -> Staff | None:
    with db.connect(url or settings.database_url()).connect() as connection:
        row = connection.execute(sa.select(STAFF).where(STAFF.c.id == staff_id)).mappings().first()
    return _staff(row) if row else None


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the account when it worked, else why not (``locked`` says it is locked now)."""

    staff: Staff | None
    locked: bool = False


def authenticate(name: str, password: str, url: str | None = None, at: dt.datetime | None = None) -> SignIn:
    """Check a name and password; counts failures and locks the account after ``CONSOLE_MAX_FAILURES`` in a row.

    A locked account is refused even with the right password until the lock ends; an unknown or
    disabled name is refused like a wrong password, after the same hashing work.
    """
    at = at or now()
    max_failures, lock_minutes = settings.console_lockout()
    with db.connect(url or settings.database_url()).begin() as connection:
        row = connection.execute(sa.select(STAFF).where(STAFF.c.name == name.strip().lower())).mappings().first()
        if row is None or not row["active"]:
            _verify(_DUMMY_HASH, password)
            return SignIn(None)
        found = _staff(row)
        if found.locked_until is not None and found.locked_until > at:
            return SignIn(None, locked=True)
        if not _verify(str(row["password_hash"]), password):
            failures = int(row["failed_attempts"]) + 1
            locked = failures >= max_failures
            connection.execute(
                STAFF.update()
                .where(STAFF.c.id == found.id)
                .values(
                    failed_attempts=0 if locked else failures,
                    locked_until=at + dt.timedelta(minutes=lock_minutes) if locked else row["locked_until"],
                )
            )
            return SignIn(None, locked=locked)
        values: dict[str, object] = {"failed_attempts": 0, "locked_until": None}
        if _HASHER.check_needs_rehash(str(row["password_hash"])):
            values["password_hash"] = _HASHER.hash(password)
        connection.execute(STAFF.update().where(STAFF.c.id == found.id).values(**values))
    return SignIn(Staff(found.id, found.name, found.role, found.must_change_password, found.active, None))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(staff_id: int, current: str, new: str, url: str | None = None) -> None:
    """Set a new password after checking the current one (the one-time password at first sign-in)."""
    with db.connect(url or settings.database_url()).begin() as connection:
        row = connection.execute(sa.select(STAFF).where(STAFF.c.id == staff_id)).mappings().first()
        if row is None or not _verify(str(row["password_hash"]), current):
            raise StaffError("The current password is not right.")
        check_password(new, str(row["name"]))
        if current == new:
            raise StaffError("Choose a password different from the current one.")
        connection.execute(
            STAFF.update()
            .where(STAFF.c.id == staff_id)
            .values(password_hash=_HASHER.hash(new), must_change_password=False)
        )
