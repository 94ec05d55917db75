"""The SMS channel: Twilio's messaging webhook, signed, opt-out aware, with numbered buttons.

Enabled in ``credentials.yml`` as ``bot.channels.sms.channel.SmsInput``; Twilio posts to
``POST /webhooks/sms/webhook``. Unlike Rasa's built-in Twilio channel it checks
that a request really comes from Twilio, answers in the webhook response
(TwiML) instead of blocking REST calls, turns buttons into one numbered text and
maps "1" back, handles STOP/START/HELP itself, gives a retried message one turn,
and never uses or logs a raw phone number as the conversation id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import (  # type: ignore[import-untyped]
    CollectingOutputChannel,
    InputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from twilio.twiml.messaging_response import (  # type: ignore[import-untyped]
    MessagingResponse,
)

from bot import content
from bot.channels.sms.store import SmsStore
from bot.channels.sms.text import (
    MAX_SMS_CHARS,
    Choice,
    Keyword,
    keyword,
    match_choice,
    render_turn,
    sms_reply,
)
from bot.channels.sms.twilio import SmsConfig

logger = logging.getLogger(__name__)

DEFAULT_CHOICE_TTL = dt.timedelta(hours=24)
# Twilio waits 15 s for an answer; a retry that arrives while the first delivery
# is still being answered waits this long for that answer before giving up.
# Twilio waits 15 s for the webhook's answer; reply before that with what was said so far.
DEFAULT_REPLY_WITHIN_SECONDS = 10.0
DEFAULT_RETRY_WAIT_SECONDS = 10.0
_RETRY_POLL_SECONDS = 0.2


class SmsParams(dict):  # type: ignore[type-arg]
    """Form fields as lists, with the ``getlist`` that twilio's RequestValidator looks for."""

    def getlist(self, name: str) -> list[str]:
        """All values of a field (Twilio signs every value)."""
        return list(self.get(name, []))

    def first(self, name: str) -> str | None:
        """The first value of a field, or None."""
        values = self.get(name) or []
        return values[0] if values else None


def parse_form(request: Request) -> SmsParams:
    """The posted form with blank fields kept.

    Sanic's ``request.form`` drops empty fields, but Twilio signs them too
    (``FromCity=`` and the like are often empty), so the signature would fail.
    """
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return SmsParams()
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return SmsParams()
    return SmsParams(parse_qs(text, keep_blank_values=True))


class SmsOutput(CollectingOutputChannel):
    """Collects one turn's responses so they return in the webhook's TwiML.

    Named "sms" so domain responses can carry SMS-specific variations
    (``channel: sms``).
    """

    @classmethod
    def name(cls) -> str:
        """The channel name responses are selected by."""
        return "sms"


class SmsInput(InputChannel):
    """Twilio-compatible SMS input channel; see the module docstring."""

    @classmethod
    def name(cls) -> str:
        """Gives the webhook its path, /webhooks/sms/webhook."""
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Secrets from the environment; only non-secret tuning from credentials.yml.

        credentials.yml is checked in, so it never holds a token. Optional keys:
        ``public_url`` (used when SMS_PUBLIC_URL is unset), ``choice_ttl_minutes``,
        ``retry_wait_seconds``, ``reply_within_seconds``. Every content file is checked first, so a typo in
        one stops the server at start with the file and the field named.
        """
        content.check()
        options = credentials or {}
        config = SmsConfig.from_env()
        if not config.public_url and options.get("public_url"):
            config = dataclasses.replace(config, public_url=str(options["public_url"]))
        return cls(
            config,
            choice_ttl=dt.timedelta(
                minutes=float(options.get("choice_ttl_minutes", DEFAULT_CHOICE_TTL.total_seconds() / 60))
            ),
            retry_wait_seconds=float(options.get("retry_wait_seconds", DEFAULT_RETRY_WAIT_SECONDS)),
            reply_within_seconds=float(options.get("reply_within_seconds", DEFAULT_REPLY_WITHIN_SECONDS)),
        )

    def __init__(
        self,
        config: SmsConfig,
        store: SmsStore | None = None,
        choice_ttl: dt.timedelta = DEFAULT_CHOICE_TTL,
        retry_wait_seconds: float = DEFAULT_RETRY_WAIT_SECONDS,
        reply_within_seconds: float = DEFAULT_REPLY_WITHIN_SECONDS,
    ) -> None:
        """The store defaults to the project's database (``DATABASE_URL``)."""
        self.config = config
        self.store = store or SmsStore()
        self.choice_ttl = choice_ttl
        self.retry_wait_seconds = retry_wait_seconds
        self.reply_within_seconds = reply_within_seconds
        self.validator = RequestValidator(config.auth_token)
        config.log_insecure(logger)
        if not config.public_url:
            logger.info(
                "SMS channel checks signatures against the URL each request arrives at; "
                "behind a proxy set SMS_PUBLIC_URL to the URL configured at Twilio."
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook (Twilio's messaging webhook)."""
        sms_webhook = Blueprint("sms_webhook", __name__)

        @sms_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sms_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.handle(request, on_new_message)

        return sms_webhook

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: the configured public URL, else the one requested."""
        if not self.config.public_url:
            return str(request.url)
        query = request.query_string
        return self.config.public_url + (f"?{query}" if query else "")

    async def handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        """One webhook call: check, de-duplicate, answer keywords or run a turn, reply in TwiML."""
        params = parse_form(request)
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.validator.validate(self.signed_url(request), params, signature):
            logger.warning("SMS webhook: request with a missing or wrong Twilio signature refused")
            return response.text("Forbidden", status=403)
        if self.config.account_sid and params.first("AccountSid") != self.config.account_sid:
            logger.warning("SMS webhook: signed request for another Twilio account refused")
            return response.text("Forbidden", status=403)

        sender = params.first("From")
        message_sid = params.first("MessageSid") or params.first("SmsSid")
        if not sender or not message_sid:
            return response.text("From and MessageSid are required", status=400)
        conversation = self.config.conversation_id(sender)

        if not await asyncio.to_thread(self.store.claim_message, message_sid, conversation):
            logger.info("SMS %s: retried delivery of a message already handled", conversation)
            return _twiml_response(await self._earlier_reply(message_sid))

        body = params.first("Body") or ""
        try:
            replies = await self._answer(body, conversation, message_sid, on_new_message)
        except Exception:  # the patient gets an answer whatever broke
            logger.exception("SMS %s: the assistant failed to answer", conversation)
            replies = [sms_reply("error")]
        twiml = _twiml(replies)
        await asyncio.to_thread(self.store.save_reply, message_sid, twiml)
        return _twiml_response(twiml)

    async def _answer(
        self,
        body: str,
        conversation: str,
        message_sid: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> list[str]:
        """The texts to send back for one incoming message (possibly none)."""
        word = keyword(body)
        opted_out = await asyncio.to_thread(self.store.is_opted_out, conversation)
        if word is Keyword.STOP:
            changed = await asyncio.to_thread(self.store.set_opted_out, conversation, True, body.strip().lower())
            logger.info("SMS %s: opted out", conversation)
            # Confirmed once; a second STOP gets silence like any other message.
            return [sms_reply("stop")] if changed else []
        if word is Keyword.START:
            await asyncio.to_thread(self.store.set_opted_out, conversation, False, body.strip().lower())
            logger.info("SMS %s: opted in", conversation)
            return [sms_reply("start")]
        if word is Keyword.HELP:
            # Answered even after STOP: carriers require HELP to work at all times.
            return [sms_reply("help")]
        if opted_out:
            logger.info("SMS %s: message from an opted-out number not answered", conversation)
            return []
        if not body.strip():
            return [sms_reply("no_text")]

        offered = await asyncio.to_thread(self.store.latest_choices, conversation, self.choice_ttl)
        picked: Choice | None = match_choice(body, offered)
        text = picked.payload if picked else body
        collector = SmsOutput()
        turn = asyncio.ensure_future(
            on_new_message(
                UserMessage(
                    text,
                    collector,
                    conversation,
                    input_channel=self.name(),
                    message_id=message_sid,
                    metadata={"sms": {"choice": picked.title}} if picked else None,
                )
            )
        )
        try:
            # Twilio gives up on a webhook after 15 s. A turn stuck on a hung action server has
            # usually said its first words already (an emergency reply is written by the Rasa
            # server itself): send those rather than nothing; the turn goes on without us.
            await asyncio.wait_for(asyncio.shield(turn), self.reply_within_seconds)
        except asyncio.TimeoutError:
            logger.warning(
                "SMS %s: no answer within %.0f s; sending the %d message(s) said so far",
                conversation,
                self.reply_within_seconds,
                len(collector.messages),
            )
            turn.add_done_callback(_log_late_failure)
            if not collector.messages:
                return [sms_reply("error")]
        replies, choices = render_turn(collector.messages, MAX_SMS_CHARS)
        if choices:
            await asyncio.to_thread(self.store.offer_choices, conversation, choices)
        elif replies and offered:
            # The patient now sees a reply without buttons: "1" no longer means the old choice.
            await asyncio.to_thread(self.store.offer_choices, conversation, [])
        return replies

    async def _earlier_reply(self, message_sid: str) -> str | None:
        """The answer given to the first delivery, waiting a little if it is still coming."""
        deadline = time.monotonic() + self.retry_wait_seconds
        while True:
            earlier = await asyncio.to_thread(self.store.reply_for, message_sid)
            if earlier is not None or time.monotonic() >= deadline:
                return earlier
            await asyncio.sleep(_RETRY_POLL_SECONDS)


def _log_late_failure(turn: asyncio.Future[Any]) -> None:
    """A turn that outlived its webhook call and then failed: logged, since no one awaits it."""
    if not turn.cancelled() and turn.exception() is not None:
        logger.error("SMS: a late turn failed", exc_info=turn.exception())


def _twiml(replies: list[str]) -> str:
    """A TwiML document with one <Message> per text; the XML library does the escaping."""
    twiml = MessagingResponse()
    for reply in replies:
        twiml.message(reply)
    return str(twiml)


def _twiml_response(twiml: str | None) -> HTTPResponse:
    """200 with TwiML; an empty <Response/> tells Twilio to send nothing."""
    return response.text(twiml or _twiml([]), content_type="text/xml; charset=utf-8")
