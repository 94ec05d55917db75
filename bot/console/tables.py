"""The console's own tables: staff accounts, their sign-in sessions, and the append-only access log.

Declared on their own ``MetaData``: Alembic migrations (``bot/console/migrations``) create and
change them, never ``bot.records.db.engine()``'s create-if-missing, so every schema change of
the console is a reviewed migration.
"""

from __future__ import annotations

import sqlalchemy as sa

METADATA = sa.MetaData()

STAFF = sa.Table(
    "staff",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),  # Argon2id, with its own salt and parameters
    sa.Column("must_change_password", sa.Boolean, nullable=False),
    sa.Column("failed_attempts", sa.Integer, nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

SESSIONS = sa.Table(
    "staff_sessions",
    METADATA,
    # SHA-256 of the cookie's random token: whoever reads the database cannot sign in with it.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
)

ACCESS_LOG = sa.Table(
    "access_log",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("staff", sa.String(64), nullable=False),  # the account's name ("-" before sign-in)
    sa.Column("action", sa.String(32), nullable=False),  # sign_in, sign_in_failed, view, resolve, export, ...
    sa.Column("target", sa.String(255), nullable=False),  # what was acted on: a path, a flag or record id
    sa.Column("source", sa.String(32), nullable=True),  # digest of the client address, never the address
)
