"""The REST channel as Rasa serves it, with the rules of ``bot.channels.rest.rules`` applied first.

Enabled in ``credentials.yml`` as ``bot.channels.rest.channel.SecureRestInput``; the URL stays
``POST /webhooks/rest/webhook`` and the answer stays Rasa's (a JSON list of the bot's messages,
or a stream with ``?stream=true``). What Rasa's own ``RestInput`` lets anyone do, this one does not:

* only the machine itself may call, or with ``REST_API_TOKEN`` set only holders of that bearer
  token (401 otherwise), and in production mode without the token nobody (403);
* the body is refused over ``max_body_bytes`` before it is parsed (413), malformed or
  incomplete JSON gets 400 with a reason (never a traceback in the log), a message over
  ``max_message_chars`` gets 400;
* the conversation and the client address have rate limits (429, with ``Retry-After``);
* the channel is always ``rest`` and the caller's ``metadata`` is dropped, so nobody names the
  channel or the patient reference of a consent record (actions/consent.py reads both).

The client address of the rate limits and logs is the socket's peer, or Sanic's proxy settings'
(``SANIC_PROXIES_COUNT``, ``SANIC_REAL_IP_HEADER``) when an operator sets them; a header a
caller writes itself (``X-Forwarded-For``) is never trusted otherwise.
"""

from __future__ import annotations

import logging
import time
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints  # type: ignore[import-untyped]
from rasa.core.channels.channel import (  # type: ignore[import-untyped]
    CollectingOutputChannel,
    UserMessage,
)
from rasa.core.channels.rest import RestInput  # type: ignore[import-untyped]
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.channels.limits import RateLimiter
from bot.channels.rest import rules
from bot.channels.rest.rules import Refusal, RestMessage, RestSettings
from bot.content import languages
from bot.records.flags import CLIENT_ADDRESS_KEY

logger = logging.getLogger(__name__)

# After a refusal the unread rest of a body up to this size is read and thrown away (never kept or
# parsed), so a client still sending reads the answer; past it the connection is closed instead.
DRAIN_MAX_BYTES = 16 * 1024 * 1024


def client_address(request: Request) -> str:
    """Who sent the request: Sanic's proxied address when its proxy settings say so, else the peer."""
    return str(request.remote_addr or request.ip or "unknown")


class SecureRestInput(RestInput):  # type: ignore[misc]
    """Rasa's REST channel, closed to untrusted callers; see the module docstring."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SecureRestInput:
        """Limits from credentials.yml (checked in: no secret there), the token from the environment."""
        return cls(RestSettings.from_options(credentials))

    def __init__(self, rest: RestSettings | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        """Logs once how the channel is open, so an operator sees it at start."""
        self.rest = rest or RestSettings()
        window = self.rest.rate_limit_seconds
        self.by_sender = RateLimiter(self.rest.sender_messages, window, clock)
        self.by_address = RateLimiter(self.rest.address_messages, window, clock)
        # One log line per client and kind of refusal per window: a flood cannot flood the log.
        self._logged = RateLimiter(1, window, clock)
        if self.rest.refuse_all:
            logger.warning("REST channel: production mode without %s; every REST request is refused", rules.TOKEN_ENV)
        elif self.rest.token is not None:
            logger.info("REST channel: answers requests with the %s bearer token only", rules.TOKEN_ENV)
        else:
            logger.info(
                "REST channel: answers this machine only (loopback); set %s to let other clients in with it",
                rules.TOKEN_ENV,
            )

    # Rasa's RestInput reads these from the caller's JSON; nothing of them is taken from a caller here.
    def _extract_input_channel(self, request: Request) -> str:
        """Always ``rest``: a consent record's channel is not the caller's to choose."""
        return str(self.name())

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """None: a caller's metadata could carry a ``patient_id`` into a consent record."""
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook, whose body is read here, within the limit."""
        rest_webhook = Blueprint("secure_rest_webhook", __name__)

        @rest_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest_webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            return await self.handle(request, on_new_message)

        return rest_webhook

    async def handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse | ResponseStream:
        """One call: admit the caller, read and check the body, then run the turn as Rasa does."""
        address = client_address(request)
        try:
            message = await self._checked(request, address)
        except Refusal as refusal:
            self._stop_reading(request)
            return self._refuse(refusal, address)
        # Set by the server, never the caller's: repeated emergency flags from one address are counted.
        metadata = {CLIENT_ADDRESS_KEY: address}
        if message.language:  # read at the start of a session (actions/session.py)
            metadata[languages.METADATA_KEY] = message.language
        if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
            return response.stream(
                self.stream_response(on_new_message, message.text, message.sender, self.name(), metadata),
                content_type="text/event-stream",
            )
        collector = CollectingOutputChannel()
        try:
            await on_new_message(
                UserMessage(message.text, collector, message.sender, input_channel=self.name(), metadata=metadata)
            )
        except CancelledError:
            logger.error("REST: a turn was cancelled (a message of %d characters)", len(message.text))
        except Exception:
            logger.exception("REST: the assistant failed to answer a message of %d characters", len(message.text))
        return response.json(collector.messages)

    async def _checked(self, request: Request, address: str) -> RestMessage:
        """The request's message once every rule holds; ``Refusal`` at the first that does not."""
        proxied = rules.is_proxied(request.headers)
        local = rules.is_loopback(request.ip) and not proxied
        if not local and not self.by_address.allow(address):  # counted before the token: guesses count too
            raise self._rate_limited("client address")
        rules.admit(self.rest, request.ip, proxied, request.headers.get("authorization"))
        message = rules.parse_message(await self._read_body(request), self.rest)
        if not self.by_sender.allow(message.sender):
            raise self._rate_limited("conversation")
        return message

    async def _read_body(self, request: Request) -> bytes:
        """The body, read only up to ``max_body_bytes``: a bigger one is refused (413) unparsed."""
        limit = self.rest.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise rules.too_large(self.rest)
        if request.stream is None or request.body:  # not streamed: Sanic has read it already
            body = bytes(request.body or b"")
            if len(body) > limit:
                raise rules.too_large(self.rest)
            return body
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream:
            size += len(chunk)
            if size > limit:
                raise rules.too_large(self.rest)
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _stop_reading(request: Request) -> None:
        """Sanic reads what is left of a body after the answer (a streamed route lifts its limit): cap it."""
        if request.stream is not None and hasattr(request.stream, "request_max_size"):
            request.stream.request_max_size = DRAIN_MAX_BYTES

    def _rate_limited(self, what: str) -> Refusal:
        seconds = self.rest.rate_limit_seconds
        return Refusal(429, "rate_limited", f"Too many messages from this {what}; try again in {seconds:.0f} s.")

    def _refuse(self, refusal: Refusal, address: str) -> HTTPResponse:
        """The refusal as JSON; logged as one line (no body, no sender), once per client and kind per window."""
        if self._logged.allow(f"{address}|{refusal.error}"):
            # Who may call, floods and oversized bodies concern an operator; a malformed body the caller.
            level = logging.INFO if refusal.status == 400 else logging.WARNING
            logger.log(level, "REST: %d %s from %s: %s", refusal.status, refusal.error, address, refusal.reason)
        headers: dict[str, str] = {}
        if refusal.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        elif refusal.status == 429:
            headers["Retry-After"] = str(int(self.rest.rate_limit_seconds))
        return response.json(refusal.body(), status=refusal.status, headers=headers)
