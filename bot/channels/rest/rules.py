"""What a REST request must be: who may send it, how big it may be, and what its JSON must hold.

Plain Python (no Rasa, no Sanic), so every rule is tested on its own. A request that breaks a
rule raises ``Refusal``: an HTTP status and a reason the caller can read, never a traceback.

Who may call (issue 14, finding 1): REST can name any conversation, so only a caller the
server can trust may use it - the machine itself (the loopback interface, reached directly,
not through a proxy) or, when ``REST_API_TOKEN`` is set, a caller with that bearer token
(and then only such callers). In production mode without the token nobody may.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import settings
from bot.content import languages

TOKEN_ENV = "REST_API_TOKEN"

DEFAULT_MAX_BODY_BYTES = 16 * 1024
DEFAULT_MAX_MESSAGE_CHARS = 2000
DEFAULT_RATE_LIMIT_SECONDS = 60.0
# A person types a few messages a minute; the whole consent flow is about 25 messages.
DEFAULT_SENDER_MESSAGES = 30
# One integration server may speak for many patients from one address.
DEFAULT_ADDRESS_MESSAGES = 300
# Rasa's SQL tracker store keeps a conversation id in 255 characters.
MAX_SENDER_CHARS = 255

# Headers a proxy adds. A request carrying one came through a proxy, so its peer address
# (the proxy's) says nothing about who sent it: it is never treated as the machine itself.
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


class Refusal(Exception):
    """A request the channel will not run: ``status`` and a ``reason`` for the caller."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason

    def body(self) -> dict[str, str]:
        """The JSON answer: a short code to branch on and a sentence to read."""
        return {"error": self.error, "reason": self.reason}


@dataclass(frozen=True)
class RestSettings:
    """The channel's settings: the token from the environment, limits from credentials.yml."""

    token: str | None = None
    refuse_all: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_message_chars: int = DEFAULT_MAX_MESSAGE_CHARS
    rate_limit_seconds: float = DEFAULT_RATE_LIMIT_SECONDS
    sender_messages: int = DEFAULT_SENDER_MESSAGES
    address_messages: int = DEFAULT_ADDRESS_MESSAGES

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None, env: Mapping[str, str] | None = None) -> RestSettings:
        """Limits from the channel's credentials.yml section; ``REST_API_TOKEN`` from the environment.

        In production mode an unset token turns the channel off (``refuse_all``), and a set one
        must be a real secret (``bot.settings.secret`` stops the server otherwise).
        """
        options = options or {}
        raw = (os.environ if env is None else env).get(TOKEN_ENV, "").strip()
        token = settings.secret(TOKEN_ENV, None, env) if raw else None
        return cls(
            token=token,
            refuse_all=token is None and settings.is_production(env),
            max_body_bytes=_positive(options, "max_body_bytes", DEFAULT_MAX_BODY_BYTES),
            max_message_chars=_positive(options, "max_message_chars", DEFAULT_MAX_MESSAGE_CHARS),
            rate_limit_seconds=float(_positive(options, "rate_limit_seconds", DEFAULT_RATE_LIMIT_SECONDS)),
            sender_messages=_positive(options, "rate_limit_sender_messages", DEFAULT_SENDER_MESSAGES),
            address_messages=_positive(options, "rate_limit_address_messages", DEFAULT_ADDRESS_MESSAGES),
        )


def _positive(options: Mapping[str, Any], name: str, default: float) -> int:
    """A whole number above 0 from credentials.yml, or the default when the key is empty."""
    value = options.get(name)
    if value is None:
        return int(default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0 or value != int(value):
        raise settings.SettingsError(f"credentials.yml, REST channel: {name} must be a whole number above 0")
    return int(value)


# --- who may call ---------------------------------------------------------------------------


def is_loopback(address: str) -> bool:
    """Whether ``address`` (a socket's peer) is this machine: 127.0.0.0/8, ::1, or ::ffff:127.x."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def is_proxied(headers: Mapping[str, str]) -> bool:
    """Whether a proxy says it forwarded the request (``headers`` looked up case-insensitively)."""
    return any(headers.get(name) is not None for name in PROXY_HEADERS)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how much of a guess was right."""
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def admit(rest: RestSettings, peer: str, proxied: bool, authorization: str | None) -> str:
    """How the caller is trusted (``"token"`` or ``"loopback"``); ``Refusal`` when it is not."""
    if rest.refuse_all:
        raise Refusal(
            403,
            "rest_disabled",
            f"The REST channel is off: this server runs in production mode without {TOKEN_ENV}.",
        )
    if rest.token is not None:
        if token_matches(bearer_token(authorization), rest.token):
            return "token"
        raise Refusal(401, "unauthorized", "A valid 'Authorization: Bearer <token>' header is required.")
    if is_loopback(peer) and not proxied:
        return "loopback"
    raise Refusal(
        403,
        "forbidden",
        f"The REST channel answers only this machine unless {TOKEN_ENV} is set (then with that bearer token).",
    )


# --- what a request must hold ---------------------------------------------------------------


@dataclass(frozen=True)
class RestMessage:
    """What a REST caller may say: which conversation, the patient's text, and the language to answer in
    (``"metadata": {"lang": "es"}``, as a page that knows its patient's language sends it)."""

    sender: str
    text: str
    language: str | None = None


def _kind(value: Any) -> str:
    """A JSON value's type in the words of JSON, for reasons."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def too_large(rest: RestSettings) -> Refusal:
    """The refusal of a body over the limit (said before any of it is parsed)."""
    return Refusal(413, "too_large", f"The body is larger than {rest.max_body_bytes} bytes.")


def parse_message(body: bytes, rest: RestSettings) -> RestMessage:
    """``{"sender": "...", "message": "..."}`` from a body already within the size limit.

    Every other key (``input_channel``, ``metadata``, ...) is ignored: the channel name and the
    metadata a conversation keeps come from the server, never from the caller.
    """
    if not body.strip():
        raise Refusal(400, "bad_request", 'The body is empty; send a JSON object: {"sender": ..., "message": ...}.')
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refusal(400, "bad_request", "The body is not UTF-8 text.") from None
    except (ValueError, RecursionError):
        raise Refusal(400, "bad_request", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Refusal(400, "bad_request", f"The body must be a JSON object, not {_kind(data)}.")

    sender = data.get("sender")
    if sender is None:
        raise Refusal(400, "bad_request", "sender is required: the id of the conversation.")
    if not isinstance(sender, str):
        raise Refusal(400, "bad_request", f"sender must be a string, not {_kind(sender)}.")
    if not sender.strip() or not sender.isprintable():
        raise Refusal(400, "bad_request", "sender must be printable text, not empty.")
    if len(sender) > MAX_SENDER_CHARS:
        raise Refusal(400, "bad_request", f"sender is longer than {MAX_SENDER_CHARS} characters.")

    if "message" not in data:
        raise Refusal(400, "bad_request", "message is required: the patient's text.")
    text = data["message"]
    if not isinstance(text, str):
        raise Refusal(400, "bad_request", f"message must be a string, not {_kind(text)}.")
    if not text.strip():
        raise Refusal(400, "bad_request", "message is empty.")
    if len(text) > rest.max_message_chars:
        raise Refusal(400, "too_long", f"message is longer than {rest.max_message_chars} characters.")
    metadata = data.get("metadata")
    asked = languages.supported(metadata.get(languages.METADATA_KEY)) if isinstance(metadata, dict) else None
    return RestMessage(sender, text, asked)
