"""Sending an invitation: check the number may be texted, store the invitation, text the link.

Used by ``python -m bot invite`` and the care-team console. The text is in the invitation's
language (content/sms.yml or its translation, the date spoken in that language). Only the
conversation id and the invitation id reach the log, never the number, the reference or the
link (whoever has the link can open the conversation).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

import aiohttp

from bot import content
from bot.channels.sms import twilio
from bot.channels.sms.store import SmsStore
from bot.channels.sms.text import sms_reply, split_numbered
from bot.content import languages
from bot.content.dates import spoken_date
from bot.invitations import InvitationError, link, store
from bot.invitations.store import Invitation
from bot.outreach import KIND_INVITATION
from bot.outreach import store as outreach_store
from bot.signed_token import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InviteResult:
    """What was (or, in a dry run, would have been) sent."""

    invitation: Invitation
    link: str
    body: str
    message_sid: str | None
    dry_run: bool


def compose(token: str, procedure_date: dt.date | None = None, language: str = languages.ENGLISH) -> str:
    """The invitation text in ``language`` (content/sms.yml ``invitation``, or ``invitation_dated`` with the day)."""
    address = link.url(token)
    with languages.use(language):
        if procedure_date is None:
            return sms_reply("invitation", link=address)
        return sms_reply("invitation_dated", link=address, date=spoken_date(procedure_date))


async def invite(
    phone: str,
    patient_ref: str,
    procedure_date: dt.date | None = None,
    dob: dt.date | None = None,
    dry_run: bool = False,
    created_by: str = "cli",
    replace: bool = False,
    url: str | None = None,
    config: twilio.SmsConfig | None = None,
    language: str = languages.ENGLISH,
) -> InviteResult:
    """Invite ``phone`` for patient ``patient_ref``: store the invitation and text its link, in ``language``.

    Raises ``InvitationInputError`` for input that cannot be an invitation, ``InvitationError``
    when the number opted out or is another patient's, ``twilio.SmsConfigError`` when sending is
    not set up and ``twilio.TwilioApiError`` when Twilio refuses (the invitation is then revoked,
    since its link never went out). A dry run checks all of that but the sending, and stores and
    sends nothing: its body carries a sample link that opens nothing.
    """
    config = config or twilio.SmsConfig.from_env()
    if dry_run:
        invitation, token = store.draft(phone, patient_ref, procedure_date, dob, created_by, language=language)
    else:
        config.require_sending()
        invitation, token = await asyncio.to_thread(
            _checked_create, phone, patient_ref, procedure_date, dob, created_by, replace, url, language
        )
    body = compose(token, procedure_date, invitation.language)
    if dry_run:
        await asyncio.to_thread(_refuse_unless_textable, invitation, patient_ref, replace, url)
        return InviteResult(invitation, link.url(token), body, None, dry_run=True)
    number = await asyncio.to_thread(store.phone_of, invitation, url)
    try:
        sids = await _send(config, number, body)
    except twilio.TwilioApiError:
        await asyncio.to_thread(store.revoke, invitation.invitation_id, url)
        logger.warning("invitation %s not sent (Twilio refused); revoked", invitation.invitation_id)
        raise
    await asyncio.to_thread(store.record_sent, invitation.invitation_id, sids[0], url)
    # Counted among the texts this number got from us (never held: staff sent it), so a reminder
    # or copy the same day waits for the next (bot/outreach/).
    try:
        await asyncio.to_thread(
            outreach_store.record_initiated,
            invitation.conversation_id,
            KIND_INVITATION,
            invitation.invitation_id,
            utcnow(),
            content.clinic(),
            url,
        )
    except Exception:  # the text went out; not counting it must not make it look failed
        logger.exception("invitation %s: could not count it among the texts sent", invitation.invitation_id)
    logger.info(
        "invitation %s sent to conversation %s (%d text(s))",
        invitation.invitation_id,
        invitation.conversation_id,
        len(sids),
    )
    return InviteResult(invitation, link.url(token), body, sids[0], dry_run=False)


def _checked_create(
    phone: str,
    patient_ref: str,
    procedure_date: dt.date | None,
    dob: dt.date | None,
    created_by: str,
    replace: bool,
    url: str | None,
    language: str,
) -> tuple[Invitation, str]:
    """``store.create`` after the opt-out check, so an opted-out number gets no row either."""
    planned, _ = store.draft(phone, patient_ref, procedure_date, dob, created_by, language=language)
    _refuse_unless_textable(planned, patient_ref, replace=True, url=url)
    return store.create(phone, patient_ref, procedure_date, dob, created_by, replace, url, language=language)


def _refuse_unless_textable(invitation: Invitation, patient_ref: str, replace: bool, url: str | None) -> None:
    """``InvitationError`` when the number texted STOP, or (unless ``replace``) is invited for another patient."""
    if SmsStore(url).is_opted_out(invitation.conversation_id):
        raise InvitationError(
            f"the number ending in {invitation.phone_last2} has opted out (texted STOP), so it gets no invitation; "
            "the patient can text START to opt back in"
        )
    if not replace and store.other_patient_invited(invitation.conversation_id, patient_ref, url):
        raise InvitationError(store.conflict_message(invitation.phone_last2))


async def _send(config: twilio.SmsConfig, number: str, body: str) -> list[str]:
    """Send the body (in numbered pieces if it were ever too long) and return the MessageSids."""
    timeout = aiohttp.ClientTimeout(total=twilio.SEND_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        return [await twilio.send_sms(config, number, piece, session=session) for piece in split_numbered(body)]
