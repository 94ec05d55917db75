"""The SMS channel: Twilio's messaging webhook, signed, opt-out aware, with numbered buttons.

Enabled in ``credentials.yml`` as ``bot.channels.sms.channel.SmsInput``; Twilio posts to
``POST /webhooks/sms/webhook``. Unlike Rasa's built-in Twilio channel it checks
that a request really comes from Twilio, answers in the webhook response
(TwiML) instead of blocking REST calls, turns buttons into one numbered text and
maps "1" back, handles STOP/START/HELP itself, gives a retried message one turn,
limits how fast one number is answered, and never uses or logs a raw phone number
as the conversation id. A text from an invited number carries the invitation's patient
reference and how it was proved (``bot.channels.sms.invited``).

Delivery is at-least-once and turn-once: a MessageSid counts as handled only once its
reply is stored. Until then it is claimed for a lease; a retry waits for the answer,
and takes the message over (once, atomically) if the worker holding it died mid-turn.
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

from bot import content, settings
from bot.channels.limits import RateLimiter
from bot.channels.sms.invited import InvitedNumbers
from bot.channels.sms.store import Claim, SmsStore
from bot.channels.sms.text import (
    MAX_SMS_CHARS,
    Choice,
    Keyword,
    bounded_body,
    keyword,
    keyword_language,
    log_excerpt,
    match_choice,
    render_turn,
    sms_replies,
)
from bot.channels.sms.twilio import SmsConfig
from bot.content import languages
from bot.content.messages import MESSAGE_LANGUAGE
from bot.language import language_id
from bot.outreach import runner
from bot.outreach.scheduler import OutreachScheduler

logger = logging.getLogger(__name__)

DEFAULT_CHOICE_TTL = dt.timedelta(hours=24)
# Twilio waits 15 s for the webhook's answer; reply before that with what was said so far.
DEFAULT_REPLY_WITHIN_SECONDS = 10.0
# A claimed message is given up by its worker after the reply deadline plus this much (the
# time to store the reply): a claim older than that belongs to a worker that died.
CLAIM_GRACE_SECONDS = 2.0
# A retry that finds the message still claimed waits this long for the answer, taking the
# message over if the claim runs out meanwhile. Twilio retries within its own 15 s.
DEFAULT_RETRY_WAIT_SECONDS = 15.0
_RETRY_POLL_SECONDS = 0.2
# Messages one number may send per window before it gets the "rate_limited" text, then silence.
DEFAULT_RATE_LIMIT_MESSAGES = 10
DEFAULT_RATE_LIMIT_SECONDS = 60.0
# Twilio's form for a 1,600-character text with ten pictures is a few KB; a bigger body is refused
# before it is parsed.
MAX_FORM_BYTES = 64 * 1024


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

    def __init__(self) -> None:
        super().__init__()
        self.language = languages.ENGLISH  # of the turn's messages (MESSAGE_LANGUAGE): the choices line says it too

    @classmethod
    def name(cls) -> str:
        """The channel name responses are selected by."""
        return "sms"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Keep the message, and the language the assistant composed it in."""
        self.language = languages.supported(message.get(MESSAGE_LANGUAGE)) or self.language
        await super().send_response(recipient_id, message)


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
        ``retry_wait_seconds``, ``reply_within_seconds``, ``claim_lease_seconds``,
        ``rate_limit_messages``, ``rate_limit_seconds``. Every content file is checked first,
        so a typo in one stops the server at start with the file and the field named.
        """
        content.check()
        options = credentials or {}
        config = SmsConfig.from_env()
        if not config.public_url and options.get("public_url"):
            config = dataclasses.replace(config, public_url=str(options["public_url"]))

        def number(key: str, default: float) -> float:
            """A number option; left blank in credentials.yml means the default."""
            value = options.get(key)
            return default if value is None or value == "" else float(value)

        lease = options.get("claim_lease_seconds")
        return cls(
            config,
            choice_ttl=dt.timedelta(minutes=number("choice_ttl_minutes", DEFAULT_CHOICE_TTL.total_seconds() / 60)),
            retry_wait_seconds=number("retry_wait_seconds", DEFAULT_RETRY_WAIT_SECONDS),
            reply_within_seconds=number("reply_within_seconds", DEFAULT_REPLY_WITHIN_SECONDS),
            claim_lease_seconds=None if lease is None or lease == "" else float(lease),
            rate_limit_messages=int(number("rate_limit_messages", DEFAULT_RATE_LIMIT_MESSAGES)),
            rate_limit_seconds=number("rate_limit_seconds", DEFAULT_RATE_LIMIT_SECONDS),
        )

    def __init__(
        self,
        config: SmsConfig,
        store: SmsStore | None = None,
        choice_ttl: dt.timedelta = DEFAULT_CHOICE_TTL,
        retry_wait_seconds: float = DEFAULT_RETRY_WAIT_SECONDS,
        reply_within_seconds: float = DEFAULT_REPLY_WITHIN_SECONDS,
        claim_lease_seconds: float | None = None,
        rate_limit_messages: int = DEFAULT_RATE_LIMIT_MESSAGES,
        rate_limit_seconds: float = DEFAULT_RATE_LIMIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        invited: InvitedNumbers | None = None,
    ) -> None:
        """The store defaults to the project's database (``DATABASE_URL``), invitations to the store's database;
        ``clock`` drives the rate limit and how long an invitation lookup is kept.

        The claim lease defaults to the reply deadline plus ``CLAIM_GRACE_SECONDS``; a shorter
        one is refused, since a retry would then take over from a worker that is still answering.
        """
        lease = reply_within_seconds + CLAIM_GRACE_SECONDS if claim_lease_seconds is None else claim_lease_seconds
        if lease <= reply_within_seconds:
            raise ValueError(
                f"SMS channel: claim_lease_seconds ({lease:g}) must be longer than "
                f"reply_within_seconds ({reply_within_seconds:g})"
            )
        if rate_limit_messages < 1 or rate_limit_seconds <= 0:
            raise ValueError("SMS channel: rate_limit_messages and rate_limit_seconds must be positive")
        self.config = config
        self.store = store or SmsStore()
        self.invited = invited or InvitedNumbers(self.store.url, clock=clock)
        self.choice_ttl = choice_ttl
        self.retry_wait_seconds = retry_wait_seconds
        self.reply_within_seconds = reply_within_seconds
        self.claim_lease = dt.timedelta(seconds=lease)
        self.rate_limiter = RateLimiter(rate_limit_messages, rate_limit_seconds, clock=clock)
        # One "rate_limited" text per number per window; the messages after it get silence.
        self.rate_notices = RateLimiter(1, rate_limit_seconds, clock=clock)
        self.validator = RequestValidator(config.auth_token)
        # Reminders and copies the assistant texts first (bot/outreach/), started with the server.
        self.outreach = OutreachScheduler(settings.outreach_check_seconds())
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

        async def tick() -> None:
            # A coroutine function, not a lambda returning a coroutine: APScheduler's asyncio executor
            # awaits only the former (the latter it would call in a thread and drop, never sending).
            await self.send_outreach(on_new_message)

        @sms_webhook.listener("after_server_start")
        async def start_outreach(*_: Any) -> None:
            if settings.outreach_enabled():
                self.outreach.start(tick)

        @sms_webhook.listener("before_server_stop")
        async def stop_outreach(*_: Any) -> None:
            self.outreach.stop()

        return sms_webhook

    async def send_outreach(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], now: dt.datetime | None = None
    ) -> list[runner.Sent]:
        """One outreach tick (the scheduler's job): send the reminders and copies due at ``now`` (default: now)."""

        async def run_turn(conversation: str, text: str, metadata: dict[str, Any]) -> list[str]:
            collector = SmsOutput()
            await on_new_message(
                UserMessage(text, collector, conversation, input_channel=self.name(), metadata=metadata)
            )
            # A new question: choices offered before it no longer apply.
            return await self._rendered(conversation, collector, offered=True)

        try:
            return await runner.send_due(run_turn, self.config, now, url=self.store.url)
        except Exception:  # the next tick tries again; the server goes on answering
            logger.exception("SMS outreach: the tick failed")
            return []

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: the configured public URL, else the one requested."""
        if not self.config.public_url:
            return str(request.url)
        query = request.query_string
        return self.config.public_url + (f"?{query}" if query else "")

    async def handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        """One webhook call: check, claim, answer keywords or run a turn, store the reply, reply in TwiML."""
        if len(request.body or b"") > MAX_FORM_BYTES:
            logger.warning("SMS webhook: a request of %d bytes refused unread", len(request.body))
            return response.json({"error": f"request body over {MAX_FORM_BYTES} bytes"}, status=413)
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
            return response.json({"error": "From and MessageSid are required"}, status=400)
        conversation = self.config.conversation_id(sender)

        claim = await asyncio.to_thread(self.store.claim_message, message_sid, conversation, self.claim_lease)
        if not claim.ours:
            claim = await self._settle_retry(message_sid, conversation, claim)
            if claim.reply is not None:
                logger.info("SMS %s: retried delivery of a message already answered", conversation)
                return _twiml_response(claim.reply)
            if not claim.ours:
                # Never a 200 for a message nobody has answered: Twilio would count it delivered.
                logger.warning("SMS %s: retried message still being answered elsewhere; answered 503", conversation)
                return response.json({"error": "this message is still being answered; retry later"}, status=503)
            logger.warning("SMS %s: took over a message whose worker stopped before answering it", conversation)

        raw_body = params.first("Body") or ""
        body, cut = bounded_body(raw_body)
        if cut:  # signed, so Twilio's or a holder of the auth token's: odd, never passed on whole
            logger.warning(
                "SMS %s: a Body of %d characters (a real text has at most %d) was cut: %r",
                conversation,
                len(raw_body),
                MAX_SMS_CHARS,
                log_excerpt(body),
            )
        try:
            replies = await self._answer(body, conversation, message_sid, on_new_message, claim)
        except Exception:  # the patient gets an answer whatever broke
            logger.exception("SMS %s: the assistant failed to answer", conversation)
            replies = sms_replies("error")
        twiml = _twiml(replies)
        if not await asyncio.to_thread(self.store.save_reply, message_sid, twiml, claim.claimed_at):
            logger.warning("SMS %s: the claim ran out before the answer was stored; a retry took it over", conversation)
        return _twiml_response(twiml)

    async def _settle_retry(self, message_sid: str, conversation: str, claim: Claim) -> Claim:
        """For a retry of a claimed message: wait for its answer, or take it over once its claim runs out.

        Returns a claim with the stored reply, one that is ours (taken over), or, after
        ``retry_wait_seconds`` with neither, the claim still held by another worker.
        """
        deadline = time.monotonic() + self.retry_wait_seconds
        while claim.reply is None and not claim.ours and time.monotonic() < deadline:
            await asyncio.sleep(_RETRY_POLL_SECONDS)
            claim = await asyncio.to_thread(self.store.claim_message, message_sid, conversation, self.claim_lease)
        return claim

    async def _keyword_replies(self, word: Keyword, body: str, conversation: str, claim: Claim) -> list[str]:
        """The answer to a carrier keyword (STOP, START, HELP or their Spanish), never limited or sent to the NLU."""
        if word is Keyword.STOP:
            changed = await asyncio.to_thread(self.store.set_opted_out, conversation, True, body.strip().lower())
            logger.info("SMS %s: opted out", conversation)
            # Confirmed once; a second STOP gets silence like any other message. A STOP taken
            # over from a worker that died may have been recorded already: confirm it then too.
            return sms_replies("stop") if changed or claim.taken_over else []
        if word is Keyword.START:
            await asyncio.to_thread(self.store.set_opted_out, conversation, False, body.strip().lower())
            logger.info("SMS %s: opted in", conversation)
            return sms_replies("start")
        # Answered even after STOP: carriers require HELP to work at all times.
        return sms_replies("help")

    async def _answer(
        self,
        body: str,
        conversation: str,
        message_sid: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        claim: Claim,
    ) -> list[str]:
        """The texts to send back for one incoming message (possibly none)."""
        word = keyword(body)
        if word is not None:
            with languages.use(keyword_language(body)):  # PARAR is answered in Spanish
                return await self._keyword_replies(word, body, conversation, claim)
        opted_out = await asyncio.to_thread(self.store.is_opted_out, conversation)
        if opted_out:
            logger.info("SMS %s: message from an opted-out number not answered", conversation)
            return []
        metadata: dict[str, Any] = await self.invited.metadata(conversation)  # patient_id, identity when invited
        # The channel's own words (a flood, an empty text, a failure) in the language of the text, else the
        # invitation's: the conversation's own language is the assistant's to know, on the other side of the turn.
        asked = language_id.answer_language(body) or metadata.get(languages.METADATA_KEY) or languages.ENGLISH
        languages.set_for_this_task(asked)
        if not self.rate_limiter.allow(conversation):
            # The keywords above are never limited; a flood gets one notice, then silence.
            if self.rate_notices.allow(conversation):
                logger.warning("SMS %s: over the rate limit; notice sent, later messages unanswered", conversation)
                return sms_replies("rate_limited")
            logger.info("SMS %s: over the rate limit; not answered", conversation)
            return []
        if not body.strip():
            return sms_replies("no_text")

        offered = await asyncio.to_thread(self.store.latest_choices, conversation, self.choice_ttl)
        picked: Choice | None = match_choice(body, offered)
        text = picked.payload if picked else body
        if picked:
            metadata["sms"] = {"choice": picked.title}
        collector = SmsOutput()
        turn = asyncio.ensure_future(
            on_new_message(
                UserMessage(
                    text,
                    collector,
                    conversation,
                    input_channel=self.name(),
                    message_id=message_sid,
                    metadata=metadata or None,
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
                return sms_replies("error")
        return await self._rendered(conversation, collector, bool(offered))

    async def _rendered(self, conversation: str, collector: SmsOutput, offered: bool) -> list[str]:
        """A turn's messages as texts, in their language, remembering the numbered choices they offer (for a
        reply of "1")."""
        with languages.use(collector.language):
            replies, choices = render_turn(collector.messages, MAX_SMS_CHARS)
        if choices:
            await asyncio.to_thread(self.store.offer_choices, conversation, choices)
        elif replies and offered:
            # The patient now sees a reply without buttons: "1" no longer means the old choice.
            await asyncio.to_thread(self.store.offer_choices, conversation, [])
        return replies


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
