"""The ``invitations`` table: who was invited, for which patient, and which conversation that is.

The conversation id is the SMS channel's id of the invited number, so a text from that
number and the web chat opened from the link continue ONE Rasa conversation. The number
itself is kept only encrypted (``phone.py``) plus its last two digits for staff to tell
invitations apart; the date of birth only as an HMAC keyed outside the database.

One number is one conversation, so one number serves one patient: inviting a number that
is already invited for another patient reference (a caregiver's phone) is refused unless
``replace`` revokes the old invitation. A new invitation for the same patient replaces the
old one too, so only the newest link works (staff re-invite after a lock-out this way).

An invitation has a language (``languages.LANGUAGES``): the text, the page behind the link and the
reminder reach the patient in it, and its conversation starts in it. The column came after the
table (``db.engine`` adds it to older databases); rows made before it read English, as they were sent.

The table is on ``bot.records.db.METADATA`` because the Rasa server, the action server,
the console and the command line all read it. Functions are synchronous and short; async
callers run them in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot import content, settings
from bot.channels.sms.text import normalize_number
from bot.channels.sms.twilio import SmsConfig
from bot.content import languages
from bot.invitations import InvitationError, InvitationInputError, link
from bot.invitations import phone as phone_cipher
from bot.records import db
from bot.signed_token import LinkError, utcnow

# The same characters the clinic portal's patient subjects may use (bot/channels/web/session.py).
PATIENT_REF = re.compile(r"^[A-Za-z0-9._@:+-]{1,128}$")
ID_BYTES = 12  # 16 url-safe characters, 96 random bits: nobody guesses one

INVITATIONS = sa.Table(
    "invitations",
    db.METADATA,
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
    # Added after the table: not null with a default, so ``db.engine`` adds it to an older database.
    sa.Column("language", sa.String(8), nullable=False, server_default=languages.ENGLISH),
)


@dataclass(frozen=True)
class Invitation:
    """One invitation as the rest of the project sees it: no phone number, no date of birth."""

    invitation_id: str
    conversation_id: str
    patient_ref: str
    procedure_date: dt.date | None
    phone_last2: str
    link_expires_at: dt.datetime
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None
    dob_required: bool
    dob_failures: int
    message_sid: str | None = None
    language: str = languages.ENGLISH

    @property
    def locked(self) -> bool:
        """Too many wrong dates of birth (``INVITE_DOB_ATTEMPTS``): the link opens nothing until staff re-invite."""
        return self.dob_required and self.dob_failures >= settings.invite_dob_attempts()


@dataclass(frozen=True)
class DobCheck:
    """The answer to one date-of-birth try. ``understood`` is False for text that is no date (not counted)."""

    ok: bool
    attempts_left: int
    locked: bool
    understood: bool = True


def create(
    phone: str,
    patient_ref: str,
    procedure_date: dt.date | None = None,
    dob: dt.date | None = None,
    created_by: str = "cli",
    replace: bool = False,
    url: str | None = None,
    now: dt.datetime | None = None,
    language: str = languages.ENGLISH,
) -> tuple[Invitation, str]:
    """Store a new invitation and return it with its link token; ``InvitationError`` for bad input or a conflict.

    Older invitations of the same number are revoked in the same transaction: only the newest link works.
    """
    row = _new_row(phone, patient_ref, procedure_date, dob, created_by, now or utcnow(), language)
    with db.engine(url).begin() as connection:
        live = INVITATIONS.c.conversation_id == row["conversation_id"], INVITATIONS.c.revoked_at.is_(None)
        if not replace and _other_patient(connection, row["conversation_id"], patient_ref):
            raise InvitationError(conflict_message(row["phone_last2"]))
        connection.execute(sa.update(INVITATIONS).where(*live).values(revoked_at=row["created_at"]))
        connection.execute(sa.insert(INVITATIONS).values(**row))
        stored = connection.execute(
            sa.select(INVITATIONS).where(INVITATIONS.c.invitation_id == row["invitation_id"])
        ).one()
    invitation = _invitation(stored._mapping)
    return invitation, link.sign(invitation.invitation_id, invitation.link_expires_at)


def draft(
    phone: str,
    patient_ref: str,
    procedure_date: dt.date | None = None,
    dob: dt.date | None = None,
    created_by: str = "cli",
    now: dt.datetime | None = None,
    language: str = languages.ENGLISH,
) -> tuple[Invitation, str]:
    """The invitation ``create`` would make, checked the same way but stored nowhere (a dry run).

    Its token names an invitation that does not exist, so the sample link opens nothing.
    """
    row = _new_row(phone, patient_ref, procedure_date, dob, created_by, now or utcnow(), language)
    invitation = _invitation({**row, "revoked_at": None, "message_sid": None})
    return invitation, link.sign(invitation.invitation_id, invitation.link_expires_at)


def other_patient_invited(conversation_id: str, patient_ref: str, url: str | None = None) -> bool:
    """Whether the number of ``conversation_id`` has a live invitation for another patient reference."""
    with db.engine(url).connect() as connection:
        return _other_patient(connection, conversation_id, patient_ref)


def _other_patient(connection: sa.engine.Connection, conversation_id: str, patient_ref: str) -> bool:
    query = sa.select(sa.func.count()).where(
        INVITATIONS.c.conversation_id == conversation_id,
        INVITATIONS.c.revoked_at.is_(None),
        INVITATIONS.c.patient_ref != patient_ref,
    )
    return bool(connection.execute(query).scalar_one())


def conflict_message(last2: str) -> str:
    return (
        f"the number ending in {last2} is already invited for another patient, and one number is one "
        "conversation: invite another number, or replace (revoke) the other patient's invitation"
    )


def _new_row(
    phone: str,
    patient_ref: str,
    procedure_date: dt.date | None,
    dob: dt.date | None,
    created_by: str,
    now: dt.datetime,
    language: str,
) -> dict[str, Any]:
    """The table row of a new invitation, every input checked; the number encrypted, the date of birth hashed."""
    number, conversation_id = _checked(phone, patient_ref, procedure_date, dob, now)
    if language not in languages.LANGUAGES:
        raise InvitationInputError(f"the language must be one of {', '.join(languages.LANGUAGES)}")
    invitation_id = secrets.token_urlsafe(ID_BYTES)
    return {
        "invitation_id": invitation_id,
        "conversation_id": conversation_id,
        "patient_ref": patient_ref,
        "procedure_date": procedure_date,
        "phone_encrypted": phone_cipher.encrypt(number),
        "phone_last2": number[-2:],
        "dob_hmac": _dob_digest(invitation_id, dob) if dob else None,
        "dob_failures": 0,
        "link_expires_at": db.as_stored(link_expiry(now, procedure_date)),
        "created_by": created_by[:64],
        "created_at": db.as_stored(now),
        "language": language,
    }


def _checked(
    phone_number: str, patient_ref: str, procedure_date: dt.date | None, dob: dt.date | None, now: dt.datetime
) -> tuple[str, str]:
    """The E.164 number and its conversation id, after every input check (each error says what to fix)."""
    try:
        number = normalize_number(phone_number)
    except ValueError as error:
        raise InvitationInputError(str(error)) from error
    if not PATIENT_REF.match(patient_ref):
        raise InvitationInputError("the patient reference must be 1-128 letters, digits or . _ @ : + -")
    today = now.astimezone(content.clinic().timezone).date()
    if procedure_date is not None and procedure_date < today:
        raise InvitationInputError(f"the procedure date {procedure_date.isoformat()} is in the past")
    if dob is not None and not dt.date(1900, 1, 1) <= dob <= today:
        raise InvitationInputError(f"{dob.isoformat()} is not a possible date of birth")
    if dob is None and settings.invite_require_dob():
        raise InvitationInputError("INVITE_REQUIRE_DOB is on: give the patient's date of birth")
    return number, SmsConfig.from_env().conversation_id(number)


def link_expiry(now: dt.datetime, procedure_date: dt.date | None) -> dt.datetime:
    """``INVITE_LINK_DAYS`` from now, but never past the end of the day after the procedure (clinic time)."""
    expires = now + dt.timedelta(days=settings.invite_link_days())
    if procedure_date is not None:
        day_after_ends = dt.datetime.combine(
            procedure_date + dt.timedelta(days=2), dt.time(0), tzinfo=content.clinic().timezone
        )
        expires = min(expires, day_after_ends.astimezone(dt.timezone.utc))
    return expires.replace(microsecond=0)


def by_token(token: str, url: str | None = None, now: dt.datetime | None = None) -> Invitation:
    """The invitation a link opens; ``LinkError`` when bad (``expired`` False) or expired, revoked or locked (True)."""
    return _usable(get(link.verify(token, now), url))


def by_browser_key(key: str, url: str | None = None, now: dt.datetime | None = None) -> Invitation:
    """The invitation a browser key (date of birth passed) opens, with the same checks as ``by_token``."""
    invitation = _usable(get(link.check_browser_key(key, now), url))
    if (now or utcnow()) >= invitation.link_expires_at:
        raise LinkError("the link has expired", expired=True)
    return invitation


def _usable(invitation: Invitation | None) -> Invitation:
    if invitation is None:
        raise LinkError("not a valid link")
    if invitation.revoked_at is not None:
        raise LinkError("the invitation was withdrawn", expired=True)
    if invitation.locked:
        raise LinkError("too many wrong dates of birth", expired=True)
    return invitation


def get(invitation_id: str, url: str | None = None) -> Invitation | None:
    """The invitation with this id, or None."""
    with db.engine(url).connect() as connection:
        row = connection.execute(sa.select(INVITATIONS).where(INVITATIONS.c.invitation_id == invitation_id)).first()
    return _invitation(row._mapping) if row else None


def for_conversation(conversation_id: str, url: str | None = None) -> Invitation | None:
    """The newest invitation of a conversation that is not revoked (expired links still name the patient)."""
    query = (
        sa.select(INVITATIONS)
        .where(INVITATIONS.c.conversation_id == conversation_id, INVITATIONS.c.revoked_at.is_(None))
        .order_by(INVITATIONS.c.id.desc())
        .limit(1)
    )
    with db.engine(url).connect() as connection:
        row = connection.execute(query).first()
    return _invitation(row._mapping) if row else None


def check_dob(invitation_id: str, text: str, url: str | None = None) -> DobCheck:
    """Whether ``text`` is the invited patient's date of birth; a wrong one counts toward the lock.

    The count goes up in one UPDATE that only succeeds below the limit, so concurrent
    guesses on several servers cannot get more tries than ``INVITE_DOB_ATTEMPTS``.
    """
    attempts = settings.invite_dob_attempts()
    with db.engine(url).connect() as connection:
        row = connection.execute(sa.select(INVITATIONS).where(INVITATIONS.c.invitation_id == invitation_id)).first()
    invitation = _invitation(row._mapping) if row else None
    if invitation is None or invitation.revoked_at is not None or not invitation.dob_required:
        return DobCheck(ok=False, attempts_left=0, locked=True)
    digest = str(row._mapping["dob_hmac"]) if row else ""
    left = max(attempts - invitation.dob_failures, 0)
    if left == 0:
        return DobCheck(ok=False, attempts_left=0, locked=True)
    given = parse_date(text)
    if given is None:
        return DobCheck(ok=False, attempts_left=left, locked=False, understood=False)
    if hmac.compare_digest(_dob_digest(invitation_id, given), digest):
        return DobCheck(ok=True, attempts_left=left, locked=False)
    counted = (
        sa.update(INVITATIONS)
        .where(INVITATIONS.c.invitation_id == invitation_id, INVITATIONS.c.dob_failures < attempts)
        .values(dob_failures=INVITATIONS.c.dob_failures + 1)
    )
    with db.engine(url).begin() as connection:
        connection.execute(counted)
        failures = connection.execute(
            sa.select(INVITATIONS.c.dob_failures).where(INVITATIONS.c.invitation_id == invitation_id)
        ).scalar_one()
    left = max(attempts - int(failures), 0)
    return DobCheck(ok=False, attempts_left=left, locked=left == 0)


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y")


def parse_date(text: str) -> dt.date | None:
    """A date as a patient types it: 1957-03-08 (what a date field sends) or US 3/8/1957; None otherwise."""
    cleaned = text.strip()
    for form in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, form).date()
        except ValueError:
            continue
    return None


def phone_of(invitation: Invitation, url: str | None = None) -> str:
    """The invited number (E.164), decrypted: only to send it a text."""
    with db.engine(url).connect() as connection:
        encrypted = connection.execute(
            sa.select(INVITATIONS.c.phone_encrypted).where(INVITATIONS.c.invitation_id == invitation.invitation_id)
        ).scalar()
    if encrypted is None:
        raise InvitationError("no such invitation")
    return phone_cipher.decrypt(encrypted)


def record_sent(invitation_id: str, message_sid: str, url: str | None = None) -> None:
    """Keep Twilio's MessageSid of the invitation text (the first one when it went in pieces)."""
    with db.engine(url).begin() as connection:
        connection.execute(
            sa.update(INVITATIONS)
            .where(INVITATIONS.c.invitation_id == invitation_id)
            .values(message_sid=message_sid[:64])
        )


def revoke(invitation_id: str, url: str | None = None, now: dt.datetime | None = None) -> None:
    """Withdraw an invitation: its link stops working at once (revoking twice keeps the first time)."""
    with db.engine(url).begin() as connection:
        connection.execute(
            sa.update(INVITATIONS)
            .where(INVITATIONS.c.invitation_id == invitation_id, INVITATIONS.c.revoked_at.is_(None))
            .values(revoked_at=db.as_stored(now or utcnow()))
        )


def everyone(url: str | None = None, limit: int = 200) -> list[Invitation]:
    """The newest ``limit`` invitations, newest first (the console lists them)."""
    with db.engine(url).connect() as connection:
        rows = connection.execute(sa.select(INVITATIONS).order_by(INVITATIONS.c.id.desc()).limit(limit)).all()
    return [_invitation(row._mapping) for row in rows]


def _dob_digest(invitation_id: str, dob: dt.date) -> str:
    """HMAC of the date of birth, bound to one invitation: the database alone cannot be searched for a date."""
    message = f"dob:{invitation_id}:{dob.isoformat()}".encode()
    return hmac.new(link.secret().encode(), message, hashlib.sha256).hexdigest()


def _aware(moment: dt.datetime) -> dt.datetime:
    aware = db.as_utc(moment)
    assert aware is not None
    return aware


def _invitation(row: Any) -> Invitation:
    return Invitation(
        invitation_id=row["invitation_id"],
        conversation_id=row["conversation_id"],
        patient_ref=row["patient_ref"],
        procedure_date=row["procedure_date"],
        phone_last2=row["phone_last2"],
        link_expires_at=_aware(row["link_expires_at"]),
        created_at=_aware(row["created_at"]),
        created_by=row["created_by"],
        revoked_at=db.as_utc(row["revoked_at"]),
        dob_required=row["dob_hmac"] is not None,
        dob_failures=int(row["dob_failures"]),
        message_sid=row["message_sid"],
        language=languages.supported(row.get("language")) or languages.ENGLISH,
    )
