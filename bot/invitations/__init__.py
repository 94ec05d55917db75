"""Invitations: the care team texts a patient a link that opens their consent conversation.

An invitation ties a phone number (kept encrypted, ``phone.py``) to a patient reference the
clinic chose, and to the SMS channel's conversation id for that number, so a reply by text and
the web chat opened from the link are ONE conversation (``store.py``). The link (``link.py``)
is signed and expires; it names only a random invitation id, never the number or the reference.

What the link proves: whoever opens it was given it by us and it is still valid, that is,
they can most likely read the texts sent to the invited number. What it does not prove: that
this person is the patient. A forwarded link, a shared phone or a lock-screen preview give it
away, which is why an invitation can also require the patient's date of birth
(``INVITE_REQUIRE_DOB``; kept only as an HMAC, five wrong tries lock it). The identity words
below say on each message and consent record how far the patient was identified.
"""

from __future__ import annotations

from bot.content import languages

# How a message's sender was identified: the "identity" metadata key beside "patient_id", and on the record.
IDENTITY_LINK = "invitation_link"  # the web chat opened from the invitation link
IDENTITY_LINK_DOB = "invitation_link_dob"  # ... and the date of birth checked
IDENTITY_NUMBER = "invited_number"  # an SMS from the invited phone number
IDENTITY_PORTAL = "portal_token"  # the clinic portal's signed token
IDENTITIES = (IDENTITY_LINK, IDENTITY_LINK_DOB, IDENTITY_NUMBER, IDENTITY_PORTAL)

# Message metadata keys on every user message of an identified patient.
PATIENT_ID_KEY = "patient_id"
IDENTITY_KEY = "identity"


def language_metadata(language: str) -> dict[str, str]:
    """The message metadata that starts an invited conversation in the invitation's language (``{"lang": "es"}``).

    Empty for English: every conversation falls back to it anyway, and an English invitation (all
    made before invitations had a language) is no choice of the patient's, so it must not stop the
    detector from answering a patient who writes in Spanish in Spanish.
    """
    chosen = languages.supported(language)
    return {languages.METADATA_KEY: chosen} if chosen and chosen != languages.ENGLISH else {}


class InvitationError(ValueError):
    """An invitation that cannot be made or sent as asked; the message says why in plain words."""


class InvitationInputError(InvitationError):
    """What was typed cannot be an invitation (a number, a reference, a date): fix the input and try again."""
