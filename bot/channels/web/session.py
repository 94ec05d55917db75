"""Security rules of the website chat socket, kept free of Rasa so they test alone.

Rasa's own socketio channel accepts any origin, checks a token only when a
socket connects and lets a client name any conversation id it likes. The rules
here close those gaps and are used by ``bot.channels.web.channel``:

* ``OriginPolicy``: only pages of the clinic's listed origins may open a socket.
* ``PatientTokenVerifier``: a clinic portal may pass a signed patient token
  (JWT, HS256); its subject owns the conversations opened with it.
* ``SessionKeys``: conversation ids are issued by the server. The client keeps a
  signed *session key* and can only resume a conversation whose key the server
  signed for the same patient (or for no patient). Guessing, inventing or
  reusing another patient's key gets a fresh conversation instead.
* ``check_message``, ``bound_frame``: empty and oversized messages get a plain-words reply
  (``content/web.yml``); a frame over the limit is answered without being parsed.
* ``MessageLimits``: how fast one conversation and one client address may send
  (``bot.channels.limits.RateLimiter``, the project's one rate limiter).
* ``history_from_events``: what a resumed conversation shows again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

from bot import content, settings
from bot.channels.limits import RateLimiter
from bot.channels.rest.rules import is_loopback
from bot.channels.web import protocol

MAX_MESSAGE_CHARS = protocol.MAX_MESSAGE_CHARS
MIN_SECRET_CHARS = 32
DEFAULT_SESSION_MAX_AGE = 7 * 24 * 3600
HISTORY_LIMIT = 200

JWT_SECRET_ENV = "WIDGET_JWT_SECRET"
SESSION_SECRET_ENV = "WIDGET_SESSION_SECRET"
ALLOWED_ORIGINS_ENV = "WIDGET_ALLOWED_ORIGINS"

# A person types or taps far below these; a script looping on one conversation, or opening
# conversation after conversation from one address, gets a polite reply instead of the assistant.
RATE_LIMIT_MESSAGES = 15
RATE_LIMIT_SECONDS = 30
# Several patients may share one address (a clinic's Wi-Fi, a carrier's NAT): 5 a second.
RATE_LIMIT_ADDRESS_MESSAGES = 150
# The longest socket frame that is parsed at all. A 2,000-character message is a few KB
# even in JSON; a longer frame is answered from its first bytes (``bound_frame``).
MAX_FRAME_CHARS = 16 * 1024

_SUBJECT = re.compile(r"^[A-Za-z0-9._@:+-]{1,128}$")
_NONCE = re.compile(r"^[0-9a-f]{32}$")


class WidgetConfigError(ValueError):
    """A widget setting that cannot be used; the message says which and why."""


class TokenError(ValueError):
    """A patient token that is not accepted; ``reason`` is a short code for the client."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


# --- origins -----------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(origin: str) -> str:
    """The canonical ``scheme://host[:port]`` form, so list and header compare exactly.

    Raises ``WidgetConfigError`` for anything that is not a bare web origin (a path,
    a wildcard, ``null``), because a loose entry would let other pages in.
    """
    text = origin.strip()
    parts = urlsplit(text)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise WidgetConfigError(f"'{origin}' is not an origin like https://www.clinic.org")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise WidgetConfigError(
            f"'{origin}' has more than scheme, host and port; list the origin only, e.g. https://www.clinic.org"
        )
    if "*" in text:
        raise WidgetConfigError(f"'{origin}': wildcards are not allowed, list each origin")
    try:
        port = parts.port
    except ValueError as error:
        raise WidgetConfigError(f"'{origin}' has an invalid port") from error
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def origin_of(url: str) -> str:
    """The origin of an address such as ``PUBLIC_BASE_URL`` (its path dropped), in canonical form."""
    parts = urlsplit(url.strip())
    return normalize_origin(f"{parts.scheme}://{parts.netloc}")


def origins_from_env(value: str | None) -> list[str]:
    """Origins from a comma- or space-separated environment variable."""
    if not value:
        return []
    return [item for item in re.split(r"[,\s]+", value) if item]


@dataclass(frozen=True)
class OriginPolicy:
    """Which web pages may open a chat socket (exact origins, no wildcards)."""

    allowed: frozenset[str]

    @classmethod
    def from_lists(cls, *lists: Iterable[str]) -> OriginPolicy:
        """Build the policy, refusing to start on a malformed entry."""
        allowed = frozenset(normalize_origin(item) for items in lists for item in items)
        if not allowed:
            raise WidgetConfigError(
                "no allowed origins: list the clinic's web pages under allowed_origins "
                f"in the clinic settings or in {ALLOWED_ORIGINS_ENV}"
            )
        return cls(allowed)

    def allows(self, origin: str | None) -> bool:
        """Whether a connection with this ``Origin`` header may proceed.

        A missing header is refused too: every browser sends one on a socket, and
        the widget exists only for browsers.
        """
        if not origin:
            return False
        try:
            return normalize_origin(origin) in self.allowed
        except WidgetConfigError:
            return False


def page_origin(environ: Mapping[str, Any]) -> str | None:
    """The origin of the page that opened a socket, from the request's headers.

    Browsers send ``Origin`` on every WebSocket and cross-origin request, but not
    on a same-origin GET such as socket.io's first polling request from our own
    demo page. Such a request carries ``Sec-Fetch-Site: same-origin`` instead, so
    the page's origin is this server's own (scheme as forwarded by a proxy, and
    the ``Host`` header); it still has to be in the allowed list.
    """
    origin = environ.get("HTTP_ORIGIN")
    if origin:
        return str(origin)
    host = environ.get("HTTP_HOST")
    if environ.get("HTTP_SEC_FETCH_SITE") == "same-origin" and host:
        scheme = str(environ.get("wsgi.url_scheme") or "http").split(",")[0].strip()
        return f"{scheme}://{host}"
    return None


# --- patient tokens ----------------------------------------------------------


def check_secret(secret: str, name: str) -> str:
    """Refuse short HS256 keys, which can be brute-forced offline from one token."""
    if len(secret) < MIN_SECRET_CHARS:
        raise WidgetConfigError(f"{name} must be at least {MIN_SECRET_CHARS} characters long")
    return secret


@dataclass(frozen=True)
class PatientClaims:
    """Who a verified token speaks for, and until when."""

    subject: str
    expires_at: float


@dataclass(frozen=True)
class PatientTokenVerifier:
    """Checks patient tokens signed by the clinic portal (JWT, HS256 only)."""

    secret: str
    audience: str | None = None
    issuer: str | None = None
    leeway_seconds: int = 30

    def verify(self, token: object) -> PatientClaims:
        """The token's claims, or ``TokenError``; ``exp`` and ``sub`` are required."""
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise TokenError(protocol.INVALID_TOKEN, "token is not a JWT string")
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError as error:
            raise TokenError(protocol.TOKEN_EXPIRED, str(error)) from error
        except jwt.PyJWTError as error:
            raise TokenError(protocol.INVALID_TOKEN, str(error)) from error
        subject = claims.get("sub")
        if not isinstance(subject, str) or not _SUBJECT.match(subject):
            raise TokenError(protocol.INVALID_TOKEN, "sub must be a short id of letters, digits, ._@:+-")
        return PatientClaims(subject=subject, expires_at=float(claims["exp"]))


def token_expired(expires_at: float | None, now: float, leeway_seconds: int = 30) -> bool:
    """Whether a socket's patient token has run out since it connected.

    Rasa checks a token only when the socket opens; the channel asks this before
    every message, so a long-open tab cannot outlive the portal's sign-in.
    """
    return expires_at is not None and now > expires_at + leeway_seconds


# --- session keys ------------------------------------------------------------


@dataclass(frozen=True)
class IssuedSession:
    """A conversation the server handed out: the key the client keeps, the Rasa id."""

    key: str
    sender_id: str
    resumed: bool


def sender_id_for(subject: str | None, nonce: str) -> str:
    """The Rasa conversation id: tied to the patient when there is one."""
    return f"patient-{subject}-{nonce}" if subject else f"web-{nonce}"


class SessionKeys:
    """Issues and checks signed session keys ``v1.<nonce>.<issued>.<signature>``.

    The signature covers the patient subject (empty without a token), so a key is
    only good together with the token it was issued for, and only for ``max_age``
    seconds, after which a shared computer no longer reopens an old conversation.
    """

    def __init__(self, secret: bytes, max_age: int = DEFAULT_SESSION_MAX_AGE) -> None:
        self._secret = secret
        self.max_age = max_age

    def _sign(self, subject: str | None, nonce: str, issued: int) -> str:
        message = f"v1|{subject or ''}|{nonce}|{issued}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, subject: str | None, now: float | None = None) -> IssuedSession:
        """A new conversation with a random 128-bit id."""
        issued = int(time.time() if now is None else now)
        nonce = secrets.token_hex(16)
        key = f"v1.{nonce}.{issued}.{self._sign(subject, nonce, issued)}"
        return IssuedSession(key=key, sender_id=sender_id_for(subject, nonce), resumed=False)

    def resume(self, key: object, subject: str | None, now: float | None = None) -> IssuedSession | None:
        """The conversation of a key this server signed for ``subject``, else ``None``."""
        if not isinstance(key, str) or len(key) > 200:
            return None
        parts = key.split(".")
        if len(parts) != 4 or parts[0] != "v1" or not _NONCE.match(parts[1]):
            return None
        nonce, issued_text, signature = parts[1], parts[2], parts[3]
        if not issued_text.isdigit():
            return None
        issued = int(issued_text)
        expected = self._sign(subject, nonce, issued)
        if not hmac.compare_digest(expected, signature):
            return None
        current = time.time() if now is None else now
        if issued > current + 60 or current - issued > self.max_age:
            return None
        return IssuedSession(key=key, sender_id=sender_id_for(subject, nonce), resumed=True)


def session_secret(env: Mapping[str, str] | None = None) -> tuple[bytes, str]:
    """The key that signs session keys, and where it came from (for the startup log).

    ``WIDGET_SESSION_SECRET`` is best; else one derived from ``WIDGET_JWT_SECRET``;
    else a random one per process, so keys stop working when the server restarts
    and do not work across several server instances.
    """
    env = os.environ if env is None else env
    # Production mode (ASSISTANT_ENV=production) stops here when it is unset or short.
    explicit = settings.secret(SESSION_SECRET_ENV, None, env)
    if explicit:
        return check_secret(explicit, SESSION_SECRET_ENV).encode(), SESSION_SECRET_ENV
    jwt_secret = env.get(JWT_SECRET_ENV)
    if jwt_secret:
        derived = hmac.new(jwt_secret.encode(), b"widget session keys", hashlib.sha256).digest()
        return derived, f"derived from {JWT_SECRET_ENV}"
    return secrets.token_bytes(32), "random for this process"


# --- messages ----------------------------------------------------------------


def client_address(peer: str | None, forwarded_for: str | None) -> str | None:
    """The address a socket's messages count against, or None for this machine itself.

    The peer of the connection, except when that peer is this machine: then the last
    ``X-Forwarded-For`` entry if there is one (the address the project's nginx,
    ``deploy/nginx.py``, saw), else None: a client on this machine (tests, the load
    benchmark, the REST channel's rule too) has no address limit. A client reaching
    the server directly cannot choose its address, since its peer is not loopback.
    """
    address = (peer or "").strip()
    if is_loopback(address):
        last = (forwarded_for or "").split(",")[-1].strip()
        return last[:64] or None
    return address or "unknown"


class MessageLimits:
    """How many messages one conversation and one client address may send per window.

    Both are ``bot.channels.limits.RateLimiter`` instances, in memory per server process.
    A conversation over its own limit does not use up its address's share.
    """

    def __init__(
        self,
        conversation_messages: int = RATE_LIMIT_MESSAGES,
        address_messages: int = RATE_LIMIT_ADDRESS_MESSAGES,
        window_seconds: float = RATE_LIMIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (
            ("rate_limit_messages", conversation_messages),
            ("rate_limit_address_messages", address_messages),
        ):
            if value < 1:
                raise WidgetConfigError(f"{name} must be 1 or more")
        if window_seconds <= 0:
            raise WidgetConfigError("rate_limit_seconds must be above 0")
        self.conversations = RateLimiter(conversation_messages, window_seconds, clock)
        self.addresses = RateLimiter(address_messages, window_seconds, clock)

    def allow(self, conversation: str, address: str | None) -> bool:
        """Count one message; False when its conversation or its address (None: this machine) is over the limit."""
        return self.conversations.allow(conversation) and (address is None or self.addresses.allow(address))


# Engine.IO "message" + Socket.IO "event", an optional namespace and ack id, then the event name.
_EVENT_HEAD = re.compile(r'^42(/[^,\[]{0,200},)?(\d{0,12})\[\s*"([A-Za-z0-9_.:-]{1,100})"')
_NOOP = "6"  # an Engine.IO packet that does nothing
OVERSIZED_KEY = "frame_chars"


def bound_frame(frame: str | bytes, limit: int, user_event: str) -> str | bytes:
    """``frame`` if it is within ``limit``; else a small stand-in, so nothing large is parsed.

    Engine.IO would close the socket on a frame over its buffer size, with no word to
    the patient. Instead, an over-long ``user_event`` becomes the same event carrying
    only the frame's length (``{"frame_chars": n}``), with its namespace and ack id,
    which the channel answers with the over-long reply; any other oversized frame is
    dropped (an Engine.IO no-op). Only the first bytes are looked at.
    """
    if len(frame) <= limit:
        return frame
    if isinstance(frame, bytes):
        return _NOOP
    head = _EVENT_HEAD.match(frame[:400])
    if head is None or head.group(3) != user_event:
        return _NOOP
    namespace, ack = head.group(1) or "", head.group(2)
    return f'42{namespace}{ack}["{user_event}",{{"{OVERSIZED_KEY}":{len(frame)}}}]'


def bound_payload(body: bytes, limit: int, user_event: str) -> bytes:
    """A long-polling POST body with each oversized packet bounded (``bound_frame``).

    Packets are separated by the record separator (Engine.IO 4); nothing is parsed.
    """
    if len(body) <= limit:
        return body
    text = body.decode("utf-8", errors="replace")
    packets = [bound_frame(packet, limit, user_event) for packet in text.split("\x1e")]
    return "\x1e".join(str(packet) for packet in packets).encode("utf-8")


def check_message(text: object, limit: int = MAX_MESSAGE_CHARS, frame_chars: object = None) -> str | None:
    """``None`` if a user message may go to the assistant, else the reply explaining why not.

    ``frame_chars`` is set by ``bound_frame`` for a frame too long to be parsed: the
    message is over the limit, and about that long.
    """
    if isinstance(frame_chars, int) and not isinstance(frame_chars, bool) and frame_chars > limit:
        return content.web_text("replies.too_long", count=f"{frame_chars:,}", limit=f"{limit:,}")
    if not isinstance(text, str):
        return content.web_text("replies.unreadable")
    stripped = text.strip()
    if not stripped:
        return content.web_text("replies.empty")
    if len(stripped) > limit:
        return content.web_text("replies.too_long", count=f"{len(stripped):,}", limit=f"{limit:,}")
    return None


def _buttons(data: Mapping[str, Any]) -> list[dict[str, str]]:
    raw = data.get("buttons") or data.get("quick_replies") or []
    buttons = []
    for button in raw if isinstance(raw, list) else []:
        if isinstance(button, Mapping) and button.get("title") and button.get("payload"):
            buttons.append({"title": str(button["title"]), "payload": str(button["payload"])})
    return buttons


def history_from_events(events: Sequence[Mapping[str, Any]], limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    """The messages to show again when a conversation resumes.

    Takes serialized tracker events (``Event.as_dict()``) and returns widget
    messages: ``{"sender": "user"|"bot", "text": ...}``. Bot texts are split into
    bubbles as the live channel does. A user message that was a button payload
    shows the button's title; other ``/intent`` payloads (such as the widget's
    start payload) are hidden. Only the latest buttons stay, and
    only if the user has not answered them since. A restart clears what came before.
    """
    messages: list[dict[str, Any]] = []
    last_buttons: list[dict[str, str]] = []
    for event in events:
        kind = event.get("event")
        if kind == "restart":
            messages, last_buttons = [], []
        elif kind == "user":
            text = event.get("text")
            if not isinstance(text, str) or not text.strip():
                continue
            title = next((b["title"] for b in last_buttons if b["payload"] == text), None)
            if title is None and text.startswith("/"):
                continue
            messages.append({"sender": "user", "text": title or text})
            last_buttons = []
        elif kind == "bot":
            data = event.get("data") or {}
            buttons = _buttons(data) if isinstance(data, Mapping) else []
            text = event.get("text")
            parts = [part for part in str(text).strip().split("\n\n") if part] if text else []
            for part in parts:
                messages.append({"sender": "bot", "text": part})
            image = data.get("image") if isinstance(data, Mapping) else None
            if isinstance(image, str) and image:
                messages.append({"sender": "bot", "attachment": {"type": "image", "payload": {"src": image}}})
            if buttons:
                if not messages or messages[-1]["sender"] != "bot":
                    messages.append({"sender": "bot", "text": ""})
                messages[-1]["quick_replies"] = buttons
            if buttons:
                last_buttons = buttons
    trimmed = messages[-limit:]
    keep = next(
        (i for i in range(len(trimmed) - 1, -1, -1) if trimmed[i]["sender"] == "user" or "quick_replies" in trimmed[i]),
        None,
    )
    for index, message in enumerate(trimmed):
        if index != keep:
            message.pop("quick_replies", None)
    return trimmed
