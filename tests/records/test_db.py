"""The project's database: tables created on first use, and columns added since then added to older databases."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from bot.records import consent_store, db, flags
from tests.records.test_consent_store import OLD_ROW, add


def _old_schema(url: str) -> None:
    """The two tables as databases created before issue 14 have them, with one row each."""
    old = sa.MetaData()
    records = sa.Table(
        "consent_records",
        old,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        *(sa.Column(name, sa.Text, nullable=name == "patient_ref") for name in OLD_ROW),
    )
    care_flags = sa.Table(
        "care_flags",
        old,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, sa.String(255), nullable=False) for name in ("conversation_id", "channel", "kind")),
        *(sa.Column(name, sa.Text, nullable=False) for name in ("message", "detail", "status", "actor")),
        sa.Column("resolves_id", sa.Integer, nullable=True),
    )
    engine = sa.create_engine(url, future=True)
    with engine.begin() as connection:
        old.create_all(connection)
        connection.execute(records.insert().values(**OLD_ROW))
        connection.execute(
            care_flags.insert().values(
                created_at=dt.datetime.now(dt.timezone.utc),
                conversation_id="conv-old",
                channel="sms",
                kind="emergency",
                message="can't breathe",
                detail="breathing",
                status="open",
                actor="assistant",
            )
        )
    engine.dispose()


def test_an_older_database_gains_the_new_columns_and_keeps_its_rows(database_url: str) -> None:
    _old_schema(database_url)
    db._CREATED.clear()
    db.engine(database_url)
    columns = {c["name"] for c in sa.inspect(db.engine(database_url)).get_columns("consent_records")}
    assert "record_hmac" in columns
    [old_flag] = flags.open_flags(database_url)
    assert (old_flag.count, old_flag.last_at, old_flag.source) == (1, None, None)
    assert flags.add("conv-old", "sms", "emergency", "still can't", "breathing", url=database_url) == old_flag.id
    assert flags.open_flags(database_url)[0].count == 2
    [old_record] = consent_store.records(database_url)
    assert old_record.record_hmac is None and old_record.record_hash == OLD_ROW["record_hash"]
    new = add(database_url)
    assert new.prev_hash == OLD_ROW["record_hash"] and new.record_hmac
    report = consent_store.verify(database_url)
    assert report.ok and report.unsigned == 1


def test_adding_columns_again_changes_nothing(database_url: str) -> None:
    """Idempotent: another process (or a second start) finds the columns there."""
    _old_schema(database_url)
    db._CREATED.clear()
    engine = db.engine(database_url)
    db._add_missing_columns(engine, list(db.METADATA.sorted_tables))
    db._CREATED.clear()
    db.engine(database_url)
    assert [r.id for r in consent_store.records(database_url)] == [1]
