"""Who an SMS comes from when its number was invited: the patient reference and how it was proved, for the turn.

An invitation (``bot.invitations.store``) names the SMS conversation id of the invited number,
so a text from that number carries the invitation's patient reference with the identity
``IDENTITY_NUMBER``, and a decision made by text is recorded under the patient, as one made on
the web chat opened from the link is. Twilio's signed ``From`` is trusted to be the number. A
Spanish invitation also carries ``{"lang": "es"}`` (``language_metadata``), so a conversation
that starts by text starts in the language the clinic invited the patient in.

Every turn would otherwise read the table, so answers are kept briefly (``DEFAULT_TTL_SECONDS``,
per server process): a new or revoked invitation reaches a conversation within that time. A
lookup that fails (database down) is logged and the patient is answered without a reference,
as an uninvited number is: a reply matters more than the reference on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.invitations import IDENTITY_KEY, IDENTITY_NUMBER, PATIENT_ID_KEY, language_metadata
from bot.invitations import store as invitations

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 60.0
# More conversations than this in one TTL drops the whole cache: memory stays bounded under a flood.
MAX_ENTRIES = 10_000


class InvitedNumbers:
    """The metadata of an SMS conversation's invitation, looked up in the invitations table and kept briefly."""

    def __init__(
        self,
        url: str | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``url``: the database holding the invitations (None: the project's, ``settings.database_url()``)."""
        self.url = url
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._known: dict[str, tuple[float, dict[str, str]]] = {}

    async def metadata(self, conversation_id: str) -> dict[str, str]:
        """``{"patient_id": ref, "identity": IDENTITY_NUMBER}`` (and ``lang``) for an invited number, else ``{}``."""
        now = self.clock()
        known = self._known.get(conversation_id)
        if known is not None and now - known[0] < self.ttl_seconds:
            return dict(known[1])
        try:
            invitation = await asyncio.to_thread(invitations.for_conversation, conversation_id, self.url)
        except Exception:  # never cached: the next message tries again
            logger.warning(
                "SMS %s: could not look up an invitation; answered without a patient reference",
                conversation_id,
                exc_info=True,
            )
            return {}
        found = (
            {
                PATIENT_ID_KEY: invitation.patient_ref,
                IDENTITY_KEY: IDENTITY_NUMBER,
                **language_metadata(invitation.language),
            }
            if invitation
            else {}
        )
        if len(self._known) >= MAX_ENTRIES:
            self._forget(now)
        self._known[conversation_id] = (now, found)
        return dict(found)

    def _forget(self, now: float) -> None:
        """Drop what is out of date; everything, when that is not enough."""
        self._known = {key: value for key, value in self._known.items() if now - value[0] < self.ttl_seconds}
        if len(self._known) >= MAX_ENTRIES:
            self._known.clear()
