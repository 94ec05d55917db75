"""What an invitation credential opens on the website chat socket (``auth: {invite: ...}``).

The care team texts a patient a link (``bot.invitations``); the page behind it
(``invite_page``) hands the widget one of two credentials:

* the link token itself, when no date of birth is asked: the chat is "opened from the link"
  (``IDENTITY_LINK``);
* a browser key (``b1.``...), given only after the date of birth was right: "link and date
  of birth" (``IDENTITY_LINK_DOB``).

Either binds the socket to the invitation's conversation, which is the SMS channel's id of
the invited number, so the texts so far are the chat's history and both channels continue
one conversation. Where a date of birth is required (``INVITE_REQUIRE_DOB``, or the
invitation has one), the link token alone is refused: holding the link is not enough.
Kept free of Rasa and of the socket, so the rules test alone; the store is read in a thread.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from bot import settings
from bot.channels.web import protocol
from bot.channels.web.session import TokenError
from bot.content.languages import ENGLISH
from bot.invitations import IDENTITY_LINK, IDENTITY_LINK_DOB, link, store
from bot.invitations.link import LinkError

# Longer than any token or key of ours: such a value is not looked up at all.
MAX_CREDENTIAL_CHARS = 200
# How often an open socket checks that its invitation still works (revoked, locked, expired, key too old).
RECHECK_SECONDS = 60.0


@dataclass(frozen=True)
class InviteBinding:
    """The conversation an invitation credential opens, whom it names and how far they proved it."""

    invitation_id: str
    conversation_id: str
    patient_ref: str
    identity: str
    expires_at: float  # the link's end (epoch seconds); the socket's messages stop there
    language: str = ENGLISH  # the invitation's: its conversation starts in it (``language_metadata``)


def needs_date_of_birth(invitation: store.Invitation) -> bool:
    """Whether the link alone may not open this invitation's chat."""
    return invitation.dob_required or settings.invite_require_dob()


def bind(credential: object, now: dt.datetime | None = None, url: str | None = None) -> InviteBinding:
    """The binding of a link token or browser key; ``TokenError`` with an ``invite_*`` reason otherwise.

    Reads the invitations table: call it from a worker thread (``bind_in_thread``).
    """
    if not isinstance(credential, str) or not credential or len(credential) > MAX_CREDENTIAL_CHARS:
        raise TokenError(protocol.INVITE_INVALID, "the invite credential is not a token")
    is_browser_key = credential.startswith(link.BROWSER_KEY_PREFIX)
    try:
        if is_browser_key:
            invitation = store.by_browser_key(credential, url, now)
        else:
            invitation = store.by_token(credential, url, now)
    except LinkError as error:
        reason = protocol.INVITE_EXPIRED if error.expired else protocol.INVITE_INVALID
        raise TokenError(reason, str(error)) from error
    if not is_browser_key and needs_date_of_birth(invitation):
        raise TokenError(protocol.INVITE_SECOND_FACTOR, "the date of birth must be checked first")
    return InviteBinding(
        invitation_id=invitation.invitation_id,
        conversation_id=invitation.conversation_id,
        patient_ref=invitation.patient_ref,
        identity=IDENTITY_LINK_DOB if is_browser_key else IDENTITY_LINK,
        expires_at=invitation.link_expires_at.timestamp(),
        language=invitation.language,
    )


async def bind_in_thread(credential: object) -> InviteBinding:
    """``bind`` off the event loop (it reads the database)."""
    return await asyncio.to_thread(bind, credential)
