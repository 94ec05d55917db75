"""The console's access log: every sign-in, page of patient data viewed, resolve, export and invitation.

Append-only (HIPAA's audit controls, 45 CFR 164.312(b)): rows are added, never changed; admins
read it on the console's audit page. The client address is kept as a digest, like the flag log's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from bot import settings
from bot.console.staff import now
from bot.console.tables import ACCESS_LOG
from bot.records import db
from bot.records.flags import source_digest

ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_in_locked",
    "sign_out",
    "password_changed",
    "view",
    "resolve",
    "export",
    "invite",
    "staff_added",
)


@dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    staff: str
    action: str
    target: str
    source: str | None


def write(staff_name: str, action: str, target: str, client_address: str | None = None, url: str | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with db.connect(url or settings.database_url()).begin() as connection:
        connection.execute(
            ACCESS_LOG.insert().values(
                at=now(),
                staff=staff_name[:64],
                action=action,
                target=target[:255],
                source=source_digest(client_address),
            )
        )


def entries(url: str | None = None, limit: int = 500, staff_name: str | None = None) -> list[Entry]:
    """The newest entries first."""
    query = sa.select(ACCESS_LOG).order_by(ACCESS_LOG.c.id.desc()).limit(limit)
    if staff_name:
        query = query.where(ACCESS_LOG.c.staff == staff_name)
    with db.connect(url or settings.database_url()).connect() as connection:
        return [
            Entry(int(r["id"]), db.as_utc(r["at"]) or now(), r["staff"], r["action"], r["target"], r["source"])
            for r in connection.execute(query).mappings()
        ]
