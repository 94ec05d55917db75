"""The website chat's socket protocol, read from ``widget/protocol.json``: the one copy the widget is built with.

Event names, the message size limit and the reason codes live in that file so the
server and the widget bundle cannot drift apart; a code the server uses is checked
against it when this module is imported.
"""

from __future__ import annotations

import json
from typing import Any

from bot import settings

PROTOCOL_FILE = settings.PROJECT_ROOT / "widget" / "protocol.json"
_PROTOCOL: dict[str, Any] = json.loads(PROTOCOL_FILE.read_text(encoding="utf-8"))


def _listed(section: str, code: str) -> str:
    """``code`` if the protocol file lists it under ``section``; a typo on either side fails at import."""
    if code not in _PROTOCOL[section]:
        raise ValueError(f"{PROTOCOL_FILE}: '{code}' is not listed under {section}")
    return code


EVENTS: dict[str, str] = dict(_PROTOCOL["events"])
SESSION_REQUEST = EVENTS["session_request"]
SESSION_CONFIRM = EVENTS["session_confirm"]
SESSION_HISTORY = EVENTS["session_history"]
USER_MESSAGE_EVT = EVENTS["user_message"]
BOT_MESSAGE_EVT = EVENTS["bot_message"]
TURN_COMPLETE = EVENTS["turn_complete"]
MAX_MESSAGE_CHARS = int(_PROTOCOL["max_message_chars"])
# The key of a message's client id (``user_uttered``), and where a page asks whether its origin may chat.
CLIENT_ID_KEY = str(_PROTOCOL["client_id_key"])
# The key of ``session_request`` by which the widget names its page's language ("es"): the conversation
# starts in it and the channel's own replies are in it (``bot.content.languages``).
LANGUAGE_KEY = str(_PROTOCOL["language_key"])
ORIGIN_CHECK_PATH = str(_PROTOCOL["origin_check_path"])
CONNECT_ERRORS: tuple[str, ...] = tuple(_PROTOCOL["connect_errors"])

# Why a socket was refused at connect (the widget shows a text for each, content/widget.yml).
ORIGIN_NOT_ALLOWED = _listed("connect_errors", "origin_not_allowed")
TOKEN_REQUIRED = _listed("connect_errors", "token_required")
TOKEN_EXPIRED = _listed("connect_errors", "token_expired")
INVALID_TOKEN = _listed("connect_errors", "invalid_token")
TOKENS_NOT_ACCEPTED = _listed("connect_errors", "tokens_not_accepted")
# An invitation link (bot/invitations) that opens nothing: altered or unknown; expired, revoked or
# locked; or a link alone where the date of birth must be checked first (the page /i/<token> asks it).
INVITE_INVALID = _listed("connect_errors", "invite_invalid")
INVITE_EXPIRED = _listed("connect_errors", "invite_expired")
INVITE_SECOND_FACTOR = _listed("connect_errors", "invite_second_factor")

# What marks a reply as the channel's own rather than the assistant's (``notice`` of bot_uttered).
NOTICE_REFUSED = _listed("notices", "refused")
NOTICE_TOO_FAST = _listed("notices", "too_fast")
NOTICE_NOT_READY = _listed("notices", "not_ready")
NOTICE_TOKEN_EXPIRED = _listed("notices", "token_expired")
NOTICE_ERROR = _listed("notices", "error")

# The acknowledgement of a ``user_uttered`` (``{"client_id": ..., "status": ...}``): the server has
# the message (its turn started), had it already (not answered twice), or answered it with a notice.
ACK_RECEIVED = _listed("acks", "received")
ACK_DUPLICATE = _listed("acks", "duplicate")
ACK_REFUSED = _listed("acks", "refused")
