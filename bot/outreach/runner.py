"""One tick of outreach: plan the reminders that fell due, claim what is due, and send each claimed message once.

A reminder is a Rasa turn (``RECHECK_PAYLOAD``) whose answer is texted to the invited
number; the channel gives the turn as ``run_turn`` so nothing here imports Rasa. The turn
carries the invitation's language (``language_metadata``), and what is composed here (the
fallback, the copy) is in it, so a patient invited in Spanish is reminded in Spanish. A copy
is the ``own_copy_sms`` text with a link signed when it is sent (a deferred copy still
gets a link that works its full time). Before anything goes out, in this order: the
invitation still stands, the number has not texted STOP, the procedure day has not come
(a reminder then expires and the care team gets a flag), the quiet hours, the weekly
and the daily limit (``bot/outreach/__init__.py``). A copy the patient asked for is a
reply: only STOP holds it.

The log names conversations by their id only, never a number, a link or what was said.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import sqlalchemy as sa

from bot import content, settings
from bot.channels.sms import twilio
from bot.channels.sms.store import SmsStore
from bot.channels.sms.text import MAX_SMS_CHARS, sms_reply, split_numbered
from bot.content import languages
from bot.content.clinic import Clinic
from bot.content.dates import spoken_date
from bot.invitations import IDENTITY_KEY, IDENTITY_NUMBER, PATIENT_ID_KEY, language_metadata
from bot.invitations import store as invitations
from bot.invitations.store import Invitation
from bot.outreach import KIND_COPY, KIND_REMINDER, PROCEDURE_DATE_KEY, RECHECK_PAYLOAD, REMINDER_KEY, store, timing
from bot.outreach.store import Outreach
from bot.records import copy_link, db, flags

logger = logging.getLogger(__name__)

# What the channel gives: run one turn of a conversation and return the texts it said, rendered for SMS.
RunTurn = Callable[[str, str, dict[str, Any]], Awaitable[list[str]]]
FLAG_KIND = "callback"  # the care team should call: the re-check could not be done by text
FLAG_MESSAGE = "The reminder to re-check before the procedure could not be sent before the visit day; please check in."
FAILED_MESSAGE = (
    "The reminder to re-check before the procedure was refused by the SMS provider; please check in by phone."
)
WEEK_LIMIT = store.WEEK_LIMIT


@dataclass(frozen=True)
class Sent:
    """What became of one claimed message in this tick (no number, no text)."""

    outreach_id: str
    kind: str
    conversation_id: str
    status: str
    reason: str | None = None
    message_sid: str | None = None


def worker_name() -> str:
    """Who holds a claim: host and process, so staff can tell servers apart in the list."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


async def send_due(
    run_turn: RunTurn,
    sms_config: twilio.SmsConfig,
    now: dt.datetime | None = None,
    url: str | None = None,
) -> list[Sent]:
    """One tick: plan reminders, mark lapsed claims ``unknown``, claim due rows and finish each one.

    Nothing is claimed when this server cannot send texts (no Twilio credentials): the rows
    wait for a server that can.
    """
    try:
        sms_config.require_sending()
    except twilio.SmsConfigError:
        logger.debug("outreach: sending is not set up on this server; nothing claimed")
        return []
    moment = now or store.utcnow()
    clinic = content.clinic()
    await asyncio.to_thread(plan_reminders, moment, clinic, url)
    lapsed = await asyncio.to_thread(store.expire_stale_claims, moment, url)
    if lapsed:
        logger.warning("outreach: %d claim(s) lapsed (server stopped mid-send); marked unknown, not re-sent", lapsed)
    claimed = await asyncio.to_thread(store.claim_due, worker_name(), moment, url)
    results = []
    for row in claimed:
        try:
            results.append(await _finish_one(row, run_turn, sms_config, moment, clinic, url))
        except Exception:  # one broken row must not stop the others; it stays claimed and lapses to unknown
            logger.exception("outreach %s: failed for conversation %s", row.kind, row.conversation_id)
    return results


def plan_reminders(now: dt.datetime, clinic: Clinic, url: str | None = None) -> int:
    """Create the reminder rows that are due by ``now``; how many were new.

    Only invitations with a procedure date, not revoked, whose procedure day has not come,
    and no reminder yet for the same number and procedure date (a re-invitation after a
    lock-out gets no second reminder). A row that exists already (another server) is skipped.
    """
    days_before = settings.reminder_days_before()
    if days_before == 0:
        return 0
    local_time = settings.reminder_local_time()
    today = timing.local_day(now, clinic)
    table = invitations.INVITATIONS
    live = sa.select(table.c.invitation_id, table.c.conversation_id, table.c.procedure_date).where(
        table.c.procedure_date.is_not(None), table.c.procedure_date > today, table.c.revoked_at.is_(None)
    )
    with db.engine(url).connect() as connection:
        candidates = [tuple(row) for row in connection.execute(live)]
    planned = _planned_reminders([conversation for _, conversation, _ in candidates], url)
    created = 0
    for invitation_id, conversation_id, procedure_date in candidates:
        due = timing.reminder_due(procedure_date, clinic, days_before, local_time)
        if due is None or due > now or (conversation_id, procedure_date) in planned:
            continue
        if store.create(
            store.reminder_id(invitation_id), KIND_REMINDER, conversation_id, invitation_id, due, now=now, url=url
        ):
            planned.add((conversation_id, procedure_date))
            created += 1
    return created


def _planned_reminders(conversation_ids: list[str], url: str | None) -> set[tuple[str, dt.date]]:
    """(conversation, procedure date) pairs that already have a reminder row, whatever its invitation."""
    if not conversation_ids:
        return set()
    outreach, table = store.OUTREACH, invitations.INVITATIONS
    query = (
        sa.select(outreach.c.conversation_id, table.c.procedure_date)
        .join(table, table.c.invitation_id == outreach.c.invitation_id)
        .where(outreach.c.kind == KIND_REMINDER, outreach.c.conversation_id.in_(set(conversation_ids)))
    )
    with db.engine(url).connect() as connection:
        return {(row[0], row[1]) for row in connection.execute(query) if row[1] is not None}


async def _finish_one(
    row: Outreach,
    run_turn: RunTurn,
    sms_config: twilio.SmsConfig,
    now: dt.datetime,
    clinic: Clinic,
    url: str | None,
) -> Sent:
    """Check one claimed row against every rule, then send it or say why not."""
    invitation = await asyncio.to_thread(_invitation_of, row, url)
    if invitation is None:
        return await _leave(row, store.EXPIRED, now, url, reason="the invitation was withdrawn")
    if await asyncio.to_thread(SmsStore(url).is_opted_out, row.conversation_id):
        return await _leave(row, store.OPTED_OUT, now, url, reason="the number texted STOP")
    if row.kind == KIND_REMINDER:
        procedure = invitation.procedure_date
        if procedure is None or timing.local_day(now, clinic) >= procedure:
            await asyncio.to_thread(_flag, row, FLAG_MESSAGE, url)
            return await _leave(row, store.EXPIRED, now, url, reason="the procedure day came before it could be sent")
    if not (row.kind == KIND_COPY and row.requested):
        held = await asyncio.to_thread(_held_until, row, now, clinic, url)
        if held is not None:
            until, reason = held
            return await _leave(row, store.DEFERRED, now, url, reason=reason, next_try_at=until)
    body = await _compose(row, invitation, run_turn)
    try:
        number = await asyncio.to_thread(invitations.phone_of, invitation, url)
        sid = await _send(sms_config, number, body)
    except (twilio.TwilioApiError, twilio.SmsConfigError) as error:
        logger.warning("outreach %s: not sent to conversation %s (%s)", row.kind, row.conversation_id, _short(error))
        if row.kind == KIND_REMINDER:  # sent at most once: the care team checks in by phone instead
            await asyncio.to_thread(_flag, row, FAILED_MESSAGE, url)
        return await _leave(row, store.FAILED, now, url, reason=_short(error))
    logger.info("outreach %s: sent to conversation %s", row.kind, row.conversation_id)
    return await _leave(row, store.SENT, now, url, message_sid=sid)


def _invitation_of(row: Outreach, url: str | None) -> Invitation | None:
    """The standing invitation a row goes to: its own for a reminder, the conversation's newest for a copy."""
    if row.kind == KIND_REMINDER:
        invitation = invitations.get(row.invitation_id, url)
        return invitation if invitation is not None and invitation.revoked_at is None else None
    return invitations.for_conversation(row.conversation_id, url)


def _held_until(row: Outreach, now: dt.datetime, clinic: Clinic, url: str | None) -> tuple[dt.datetime, str] | None:
    """When a message the assistant starts must wait (and why), or None when it may go now (today is then taken)."""
    if not timing.allowed(now, clinic):
        return timing.next_allowed(now, clinic), "quiet hours (8am-9pm only)"
    today = timing.local_day(now, clinic)
    if store.week_count(row.conversation_id, today, url) >= WEEK_LIMIT:
        return timing.next_day_start(now, clinic), f"{WEEK_LIMIT} texts in 7 days already"
    if not store.record_initiated(row.conversation_id, row.kind, row.outreach_id, now, clinic, url):
        return timing.next_day_start(now, clinic), "a text already went today"
    return None


async def _compose(row: Outreach, invitation: Invitation, run_turn: RunTurn) -> str:
    """The one text to send: what the reminder's turn said (or the fallback), or the copy with a fresh link.

    In the invitation's language: the turn is asked for it, and the texts composed here are in it.
    """
    if row.kind == KIND_COPY:
        assert row.record_id is not None
        with languages.use(invitation.language):
            return sms_reply("own_copy_sms", link=copy_link.link(row.record_id), hours=settings.copy_link_hours())
    procedure = invitation.procedure_date
    assert procedure is not None
    metadata = {
        REMINDER_KEY: row.outreach_id,
        PROCEDURE_DATE_KEY: procedure.isoformat(),
        PATIENT_ID_KEY: invitation.patient_ref,
        IDENTITY_KEY: IDENTITY_NUMBER,
        **language_metadata(invitation.language),
    }
    try:
        texts = await run_turn(row.conversation_id, RECHECK_PAYLOAD, metadata)
    except Exception:  # the reminder still goes out, as the fallback text
        logger.exception(
            "outreach reminder: the turn failed for conversation %s; sending the fallback", row.conversation_id
        )
        texts = []
    said = [text for text in texts if text.strip()]
    # One message, however many bubbles the turn had: the exemption allows one text a day.
    if said:
        return "\n\n".join(said)
    with languages.use(invitation.language):
        return sms_reply("reminder_fallback", date=spoken_date(procedure))


async def _send(config: twilio.SmsConfig, number: str, body: str) -> str:
    """Send the body (numbered pieces only past Twilio's 1,600 characters) and return the first MessageSid."""
    timeout = aiohttp.ClientTimeout(total=twilio.SEND_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        sids = [
            await twilio.send_sms(config, number, piece, session=session)
            for piece in split_numbered(body, MAX_SMS_CHARS)
        ]
    return sids[0]


def _flag(row: Outreach, message: str, url: str | None) -> None:
    """Tell the care team the re-check could not be done by text before the visit."""
    flags.add(row.conversation_id, "sms", FLAG_KIND, message, detail=f"outreach {row.outreach_id}", url=url)


async def _leave(
    row: Outreach,
    status: str,
    now: dt.datetime,
    url: str | None,
    reason: str | None = None,
    message_sid: str | None = None,
    next_try_at: dt.datetime | None = None,
) -> Sent:
    """Store where a claimed row ended; a claim that lapsed meanwhile stays ``unknown`` (logged)."""
    kept = await asyncio.to_thread(store.finish, row, status, reason, message_sid, next_try_at, now, url)
    if not kept:
        logger.warning(
            "outreach %s: the claim for conversation %s lapsed before it was finished", row.kind, row.conversation_id
        )
    return Sent(row.outreach_id, row.kind, row.conversation_id, status if kept else store.UNKNOWN, reason, message_sid)


def _short(error: Exception) -> str:
    """An error as a short reason: Twilio's status and code only, since its own words may quote the number."""
    return str(error).split(":", 1)[0][: store.REASON_LENGTH]
