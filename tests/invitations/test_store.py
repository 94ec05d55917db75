"""The invitations table (bot/invitations/store.py) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from bot import content
from bot.channels.sms.twilio import SmsConfig
from bot.invitations import InvitationError, InvitationInputError, link, store
from bot.invitations import phone as phone_cipher
from bot.records import db
from tests.invitations.conftest import SMS_ID_SECRET

PHONE = "+1 (555) 010-0123"
E164 = "+15550100123"
REF = "MRN-778812"
DOB = dt.date(1957, 3, 8)


def rows(url: str) -> list[dict[str, object]]:
    with db.engine(url).connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(store.INVITATIONS))]


def test_the_conversation_is_the_one_the_sms_channel_gives_the_number(database_url: str) -> None:
    invitation, _ = store.create(PHONE, REF, url=database_url)
    channel = SmsConfig.from_env({"SMS_ID_SECRET": SMS_ID_SECRET})
    assert invitation.conversation_id == channel.conversation_id("+15550100123")
    assert store.for_conversation(invitation.conversation_id, database_url) == invitation


def test_the_link_opens_the_invitation_and_carries_no_number_or_reference(database_url: str) -> None:
    invitation, token = store.create(PHONE, REF, procedure_date=None, url=database_url)
    assert store.by_token(token, database_url) == invitation
    invitation_id, epoch, _ = token.split(".")
    assert invitation_id == invitation.invitation_id and int(epoch) == int(invitation.link_expires_at.timestamp())
    address = link.url(token)
    for secret_part in ("5550100123", "0100123", REF, "778812"):
        assert secret_part not in address
    second, _ = store.create(PHONE, REF, url=database_url)
    assert second.invitation_id != invitation.invitation_id  # random, not derived from the number or the reference


def test_the_number_is_stored_encrypted_and_the_dob_only_as_an_hmac(database_url: str) -> None:
    invitation, _ = store.create(PHONE, REF, dob=DOB, url=database_url)
    (row,) = rows(database_url)
    stored = " ".join(str(value) for value in row.values())
    for plain in ("5550100123", "1957", "03-08", "3/8"):
        assert plain not in stored
    assert row["phone_last2"] == "23" and invitation.phone_last2 == "23"
    assert store.phone_of(invitation, database_url) == E164
    assert invitation.dob_required and len(str(row["dob_hmac"])) == 64


def test_five_wrong_dates_of_birth_lock_the_invitation(database_url: str) -> None:
    invitation, token = store.create(PHONE, REF, dob=DOB, url=database_url)
    assert store.check_dob(invitation.invitation_id, "03/08/1957", database_url).ok
    not_a_date = store.check_dob(invitation.invitation_id, "my birthday", database_url)
    assert not not_a_date.ok and not not_a_date.understood and not_a_date.attempts_left == 5
    for left in (4, 3, 2, 1):
        check = store.check_dob(invitation.invitation_id, "1957-03-09", database_url)
        assert (check.ok, check.attempts_left, check.locked) == (False, left, False)
    last = store.check_dob(invitation.invitation_id, "1960-01-01", database_url)
    assert (last.ok, last.attempts_left, last.locked) == (False, 0, True)
    # Locked: even the right date no longer opens it, and neither does the link.
    assert store.check_dob(invitation.invitation_id, "1957-03-08", database_url).locked
    with pytest.raises(link.LinkError) as error:
        store.by_token(token, database_url)
    assert error.value.expired
    assert store.get(invitation.invitation_id, database_url).locked  # type: ignore[union-attr]
    # Staff re-invite: a new link that works, the old one stays dead.
    fresh, fresh_token = store.create(PHONE, REF, dob=DOB, url=database_url)
    assert store.by_token(fresh_token, database_url) == fresh


def test_concurrent_wrong_guesses_get_no_more_than_the_limit(database_url: str) -> None:
    invitation, _ = store.create(PHONE, REF, dob=DOB, url=database_url)
    results: list[store.DobCheck] = []

    def guess(year: int) -> None:
        results.append(store.check_dob(invitation.invitation_id, f"{year}-01-01", database_url))

    threads = [threading.Thread(target=guess, args=(1900 + n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get(invitation.invitation_id, database_url).dob_failures == 5  # type: ignore[union-attr]
    assert not any(result.ok for result in results)


def test_a_caregivers_number_for_another_patient_is_refused_unless_replaced(database_url: str) -> None:
    first, first_token = store.create(PHONE, REF, url=database_url)
    with pytest.raises(InvitationError, match="another patient") as error:
        store.create(PHONE, "MRN-999", url=database_url)
    assert "0123" not in str(error.value) and REF not in str(error.value)
    assert len(rows(database_url)) == 1
    second, second_token = store.create(PHONE, "MRN-999", replace=True, url=database_url)
    with pytest.raises(link.LinkError):
        store.by_token(first_token, database_url)
    assert store.by_token(second_token, database_url) == second
    assert store.for_conversation(first.conversation_id, database_url) == second
    assert [i.invitation_id for i in store.everyone(database_url)] == [second.invitation_id, first.invitation_id]


def test_a_revoked_invitation_opens_nothing(database_url: str) -> None:
    invitation, token = store.create(PHONE, REF, url=database_url)
    store.revoke(invitation.invitation_id, database_url)
    with pytest.raises(link.LinkError) as error:
        store.by_token(token, database_url)
    assert error.value.expired
    assert store.for_conversation(invitation.conversation_id, database_url) is None
    assert store.check_dob(invitation.invitation_id, "1957-03-08", database_url).locked


def test_a_browser_key_opens_only_a_live_invitation(database_url: str) -> None:
    invitation, _ = store.create(PHONE, REF, dob=DOB, url=database_url)
    key = link.browser_key(invitation.invitation_id)
    assert store.by_browser_key(key, database_url) == invitation
    with pytest.raises(link.LinkError):
        store.by_browser_key(link.browser_key("NoSuchInvitation"), database_url)
    with pytest.raises(link.LinkError):
        store.by_browser_key(key, database_url, now=invitation.link_expires_at)
    store.revoke(invitation.invitation_id, database_url)
    with pytest.raises(link.LinkError):
        store.by_browser_key(key, database_url)


def test_a_made_up_or_expired_token_opens_nothing(database_url: str) -> None:
    invitation, token = store.create(PHONE, REF, url=database_url)
    with pytest.raises(link.LinkError) as unknown:
        store.by_token(link.sign("NoSuchInvitation", invitation.link_expires_at), database_url)
    assert not unknown.value.expired
    with pytest.raises(link.LinkError) as expired:
        store.by_token(token, database_url, now=invitation.link_expires_at)
    assert expired.value.expired


def test_the_link_ends_the_day_after_the_procedure(database_url: str) -> None:
    zone = content.clinic().timezone
    today = dt.datetime.now(zone).date()
    invitation, _ = store.create(PHONE, REF, procedure_date=today + dt.timedelta(days=3), url=database_url)
    assert invitation.link_expires_at == dt.datetime.combine(today + dt.timedelta(days=5), dt.time(0), tzinfo=zone)
    far, _ = store.create(PHONE, REF, procedure_date=today + dt.timedelta(days=60), url=database_url)
    assert dt.timedelta(days=13) < far.link_expires_at - far.created_at <= dt.timedelta(days=14)


@pytest.mark.parametrize(
    ("phone", "ref", "procedure", "dob", "message"),
    [
        ("555-0100", REF, None, None, "international form"),
        (PHONE, "MRN 1", None, None, "patient reference"),
        (PHONE, "", None, None, "patient reference"),
        (PHONE, REF, dt.date(2000, 1, 1), None, "in the past"),
        (PHONE, REF, None, dt.date(2999, 1, 1), "not a possible date of birth"),
    ],
)
def test_bad_input_says_what_to_fix_and_stores_nothing(
    database_url: str, phone: str, ref: str, procedure: dt.date | None, dob: dt.date | None, message: str
) -> None:
    with pytest.raises(InvitationInputError, match=message):
        store.create(phone, ref, procedure_date=procedure, dob=dob, url=database_url)
    assert rows(database_url) == []


def test_when_the_dob_is_required_an_invitation_needs_one(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_REQUIRE_DOB", "1")
    with pytest.raises(InvitationInputError, match="date of birth"):
        store.create(PHONE, REF, url=database_url)
    assert store.create(PHONE, REF, dob=DOB, url=database_url)[0].dob_required


def test_a_draft_is_checked_like_an_invitation_and_stored_nowhere(database_url: str) -> None:
    invitation, token = store.draft(PHONE, REF, dob=DOB)
    assert link.verify(token) == invitation.invitation_id and invitation.dob_required
    assert rows(database_url) == []
    with pytest.raises(link.LinkError):
        store.by_token(token, database_url)


# --- the patient's language ------------------------------------------------------------------


def test_an_invitation_keeps_its_language(database_url: str) -> None:
    spanish, _ = store.create(PHONE, REF, language="es", url=database_url)
    assert spanish.language == "es"
    assert store.for_conversation(spanish.conversation_id, database_url) == spanish
    assert [row["language"] for row in rows(database_url)] == ["es"]
    english, _ = store.create(PHONE, REF, url=database_url)
    assert english.language == "en" and store.draft(PHONE, REF, language="es")[0].language == "es"
    with pytest.raises(InvitationInputError, match="language"):
        store.create(PHONE, REF, language="fr", url=database_url)
    assert len(rows(database_url)) == 2


def _table_before_languages(url: str) -> str:
    """The invitations table as databases made before invitations had a language, with one row; its id."""
    old = sa.MetaData()
    table = sa.Table(
        "invitations",
        old,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("invitation_id", sa.String(24), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
        sa.Column("patient_ref", sa.String(128), nullable=False),
        sa.Column("procedure_date", sa.Date, nullable=True),
        sa.Column("phone_encrypted", sa.Text, nullable=False),
        sa.Column("phone_last2", sa.String(2), nullable=False),
        sa.Column("dob_hmac", sa.String(64), nullable=True),
        sa.Column("dob_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("link_expires_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("revoked_at", sa.DateTime, nullable=True),
        sa.Column("message_sid", sa.String(64), nullable=True),
    )
    now = dt.datetime(2026, 11, 2, 9, 0)
    engine = sa.create_engine(url, future=True)
    with engine.begin() as connection:
        old.create_all(connection)
        connection.execute(
            table.insert().values(
                invitation_id="OldInvitation001",
                conversation_id="sms-old",
                patient_ref=REF,
                phone_encrypted=phone_cipher.encrypt(E164),
                phone_last2="23",
                link_expires_at=now + dt.timedelta(days=14),
                created_by="cli",
                created_at=now,
            )
        )
    engine.dispose()
    return "OldInvitation001"


def test_an_older_database_gains_the_language_and_its_invitations_read_english(database_url: str) -> None:
    old_id = _table_before_languages(database_url)
    db._CREATED.clear()
    old = store.get(old_id, database_url)
    assert old is not None and old.language == "en" and old.patient_ref == REF
    columns = {c["name"]: c for c in sa.inspect(db.engine(database_url)).get_columns("invitations")}
    assert not columns["language"]["nullable"]
    spanish, _ = store.create("+15550100999", "MRN-2", language="es", url=database_url)
    assert store.get(spanish.invitation_id, database_url) == spanish and spanish.language == "es"
    db._CREATED.clear()  # a second server starting: the column is there, nothing changes
    assert [row["language"] for row in rows(database_url)] == ["en", "es"]
