"""The patient's own copy by SMS (``PATIENT_COPY_SMS=on``): queued when a web patient decides or asks for it.

An invited patient who decides in the web chat sees the copy link on the page; with the
setting on they also get it by text, to keep. A patient on SMS already got the link in
the reply, so nothing is queued for them. A copy after a decision is outreach: STOP, the
quiet hours and the daily and weekly limits hold it. A copy the patient asked for
(``requested``) is a reply: only STOP holds it. The row's fixed id ("copy:<record>")
sends each record's copy at most once; the link is signed when the text goes out.
"""

from __future__ import annotations

from bot import settings
from bot.invitations import store as invitations
from bot.outreach import KIND_COPY, store

SMS_CHANNEL = "sms"


def queue_copy(
    conversation_id: str, record_id: int, channel: str | None, requested: bool, url: str | None = None
) -> bool:
    """Plan the copy of record ``record_id`` by text; True when a new one was queued.

    Nothing when the setting is off, the patient is on SMS, the conversation has no
    invitation (no number to text), or this record's copy was queued before (a held one
    the patient now asks for is sent at once instead).
    """
    if not settings.patient_copy_sms() or (channel or "").lower() == SMS_CHANNEL:
        return False
    invitation = invitations.for_conversation(conversation_id, url)
    if invitation is None:
        return False
    outreach_id = store.copy_id(record_id)
    planned = store.create(
        outreach_id,
        KIND_COPY,
        conversation_id,
        invitation.invitation_id,
        due_at=store.utcnow(),
        record_id=record_id,
        requested=requested,
        url=url,
    )
    if not planned and requested:
        # The copy after the decision is still held (quiet hours, limits): asked for, it goes now.
        return store.hurry(outreach_id, url=url)
    return planned
