"""The SMS channel through its real Sanic blueprint, a real HTTP client and signed Twilio forms.

A small fake assistant stands behind the blueprint (registered the way Rasa
registers channels), so these tests exercise the channel alone; the e2e test
at the bottom talks to the real trained assistant through ``rasa run``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import random
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
import requests
import sqlalchemy as sa  # type: ignore[import-untyped]
import yaml
from rasa.core.channels.channel import UserMessage  # type: ignore[import-untyped]

from bot import content
from bot.channels.sms.channel import SmsInput
from bot.channels.sms.store import SmsStore, utcnow
from bot.channels.sms.text import MAX_SMS_CHARS, sms_length, sms_reply
from bot.channels.sms.twilio import DEV_AUTH_TOKEN, SmsConfig
from bot.content import languages
from bot.content.clinic import clinic
from bot.content.messages import MESSAGE_LANGUAGE
from bot.settings import CONTENT_DIR
from tests.helpers.channel_app import serve_channels
from tests.helpers.invitations import use_invitation_env
from tests.helpers.twilio import FORM_ACCOUNT, FORM_TOKEN, WEBHOOK, FakeTwilio, messages_of, sign, twilio_form

TOKEN, ACCOUNT = FORM_TOKEN, FORM_ACCOUNT
PATIENT = "+15550100123"
YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
LONG = " ".join(
    f"Point {i}: the needle is placed with imaging guidance and the medicine goes in slowly." for i in range(60)
)


class FakeAssistant:
    """Stands in for Rasa's agent: records each message and answers through the collector."""

    def __init__(self) -> None:
        self.received: list[UserMessage] = []
        self.crashed: set[str] = set()

    @property
    def texts(self) -> list[str]:
        return [message.text or "" for message in self.received]

    async def handle_message(self, message: UserMessage) -> None:
        out, to, text = message.output_channel, message.sender_id, message.text or ""
        if text.startswith("crash once") and text not in self.crashed:
            # The worker dies mid-turn: its request is cancelled before any reply is stored.
            self.crashed.add(text)
            raise asyncio.CancelledError
        self.received.append(message)
        if text == "consent?":
            await out.send_text_with_buttons(to, "Do you agree to the injection?", YES_NO)
        elif text == "¿consiente?":  # as Rasa sends a Spanish message: through send_response, with its language
            await out.send_response(to, {"text": "¿Está de acuerdo?", "buttons": YES_NO, MESSAGE_LANGUAGE: "es"})
        elif text.startswith("/"):
            await out.send_text_message(to, f"Payload {text} received.")
        elif text == "long answer":
            await out.send_text_message(to, LONG)
        elif text == "markup":
            await out.send_text_message(
                to,
                "Fees & <costs> are **low**; see [the form](https://example.org/f?a=1&b=2).",
            )
        elif text == "slow":
            await asyncio.sleep(1.0)
            await out.send_text_message(to, "Slow answer.")
        elif text == "boom":
            raise RuntimeError("assistant down")
        elif text == "hung after the first words":  # the emergency reply, then a hung action server
            await out.send_text_message(to, "Call 911 now.")
            await asyncio.sleep(30)
        elif text == "hung":
            await asyncio.sleep(30)
        elif text == "crash once, then slow":
            await asyncio.sleep(1.0)
            await out.send_text_message(to, "Answered after the crash.")
        else:
            await out.send_text_message(to, f"You said: {text}")


@dataclass
class Webhook:
    """A running Sanic app with the SMS blueprint, and a client to post to it."""

    base: str
    assistant: FakeAssistant
    channel: SmsInput
    client: aiohttp.ClientSession
    sent: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.base + WEBHOOK

    async def post(
        self,
        fields: Mapping[str, str],
        *,
        signature: str | None = None,
        signed_url: str | None = None,
        token: str = TOKEN,
    ) -> tuple[int, str]:
        headers = {
            "X-Twilio-Signature": signature if signature is not None else sign(signed_url or self.url, fields, token)
        }
        self.sent.append(dict(fields))
        async with self.client.post(self.url, data=dict(fields), headers=headers) as response:
            return response.status, await response.text()

    async def text(self, body: str, sender: str = PATIENT, sid: str | None = None) -> list[str]:
        """Send a signed SMS and return the texts that come back."""
        status, answer = await self.post(twilio_form(sender, body, sid))
        assert status == 200, answer
        return messages_of(answer)


def database_url(tmp_path: Path) -> str:
    """A fresh SQLite file, or SMS_TEST_DATABASE_URL to run the same tests on PostgreSQL."""
    return os.environ.get("SMS_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'sms.db'}"


async def serve(channel: SmsInput, assistant: FakeAssistant) -> AsyncIterator[Webhook]:
    """Serve ``channel`` as ``rasa run`` does: registered by Rasa's own ``register``."""
    async with (
        serve_channels([channel], assistant) as port,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client,
    ):
        yield Webhook(f"http://127.0.0.1:{port}", assistant, channel, client)


@pytest_asyncio.fixture
async def webhook(tmp_path: Path) -> AsyncIterator[Webhook]:
    # A secret of its own gives each test its own conversations, also when
    # SMS_TEST_DATABASE_URL shares one PostgreSQL database between runs.
    config = SmsConfig(auth_token=TOKEN, id_secret=f"test-{uuid.uuid4().hex}", account_sid=ACCOUNT)
    channel = SmsInput(config, store=SmsStore(database_url(tmp_path)), retry_wait_seconds=5)
    async for running in serve(channel, FakeAssistant()):
        yield running


def unique_patient() -> str:
    """A number no earlier run used, so a shared PostgreSQL test database needs no cleaning."""
    return "+1555" + "".join(random.choices("0123456789", k=7))


# --- signatures -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_forged_missing_or_stale_signatures_get_403_and_never_reach_the_bot(
    webhook: Webhook,
) -> None:
    fields = twilio_form(PATIENT, "hello")
    forged = sign(webhook.url, fields, token="someone-elses-token")
    assert (await webhook.post(fields, signature=forged))[0] == 403
    assert (await webhook.post(fields, signature=""))[0] == 403
    other_url = sign("https://evil.example.org/webhooks/sms/webhook", fields)
    assert (await webhook.post(fields, signature=other_url))[0] == 403
    tampered = dict(fields, Body="STOP")
    assert (await webhook.post(tampered, signature=sign(webhook.url, fields)))[0] == 403
    status, _ = await webhook.post(twilio_form(PATIENT, "hi", account="AC" + "9" * 32))
    assert status == 403, "a correctly signed request for another account is refused"
    assert webhook.assistant.received == []


@pytest.mark.asyncio
async def test_json_body_is_refused(webhook: Webhook) -> None:
    async with webhook.client.post(
        webhook.url,
        json={"From": PATIENT, "Body": "hi"},
        headers={"X-Twilio-Signature": "x"},
    ) as response:
        assert response.status == 403
    assert webhook.assistant.received == []


@pytest.mark.asyncio
async def test_signed_message_reaches_the_bot_under_a_hashed_id(
    webhook: Webhook,
) -> None:
    fields = twilio_form(PATIENT, "  what is a rhizotomy?  ")
    status, answer = await webhook.post(fields)
    assert status == 200
    assert messages_of(answer) == ["You said: what is a rhizotomy?"]
    (message,) = webhook.assistant.received
    assert message.text == "what is a rhizotomy?"
    assert message.input_channel == "sms"
    assert message.message_id == fields["MessageSid"]
    assert message.output_channel.name() == "sms"
    assert message.sender_id.startswith("sms-")
    assert "5550100123" not in message.sender_id
    assert message.sender_id == webhook.channel.config.conversation_id(PATIENT)
    assert PATIENT not in str(message.metadata)


@pytest.mark.asyncio
async def test_the_same_number_continues_one_conversation(webhook: Webhook) -> None:
    await webhook.text("first")
    await webhook.text("days later")
    await webhook.text("someone else", sender="+15550100999")
    first, later, other = (m.sender_id for m in webhook.assistant.received)
    assert first == later != other


@pytest.mark.asyncio
async def test_health_route(webhook: Webhook) -> None:
    async with webhook.client.get(webhook.base + "/webhooks/sms/") as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_public_url_is_what_the_signature_covers(tmp_path: Path) -> None:
    public = "https://assistant.example.org/webhooks/sms/webhook"
    config = SmsConfig(auth_token=TOKEN, id_secret="s", public_url=public)
    channel = SmsInput(config, store=SmsStore(database_url(tmp_path)))
    async for running in serve(channel, FakeAssistant()):
        behind_proxy = twilio_form(unique_patient(), "hi")
        assert (await running.post(behind_proxy, signed_url=public))[0] == 200
        local = twilio_form(unique_patient(), "hi")
        assert (await running.post(local, signed_url=running.url))[0] == 403
        assert running.assistant.texts == ["hi"]


@pytest.mark.asyncio
async def test_dev_mode_is_announced_and_still_checks_signatures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in (
        "TWILIO_AUTH_TOKEN",
        "SMS_ID_SECRET",
        "SMS_PUBLIC_URL",
        "TWILIO_ACCOUNT_SID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url(tmp_path))
    with caplog.at_level(logging.WARNING, logger="bot"):
        channel = SmsInput.from_credentials({"choice_ttl_minutes": 5})
    assert isinstance(channel, SmsInput)
    warnings = " ".join(r.getMessage() for r in caplog.records)
    assert "INSECURE DEV MODE" in warnings and "TWILIO_AUTH_TOKEN" in warnings
    assert "SMS_ID_SECRET" in warnings
    async for running in serve(channel, FakeAssistant()):
        fields = twilio_form(unique_patient(), "hi")
        assert (await running.post(fields, signature=""))[0] == 403
        assert (await running.post(fields, token="not-the-dev-token"))[0] == 403
        assert (await running.post(fields, token=DEV_AUTH_TOKEN))[0] == 200


# --- keywords and opt-out -------------------------------------------------------------


@pytest.mark.asyncio
async def test_stop_silences_until_start_and_keywords_never_reach_the_bot(
    webhook: Webhook,
) -> None:
    clinic = content.clinic()
    assert await webhook.text("hello") == ["You said: hello"]

    (confirmation,) = await webhook.text("STOP")
    assert confirmation == sms_reply("stop")
    assert clinic.name in confirmation and "START" in confirmation
    assert await webhook.text("How long does the procedure take?") == []
    assert await webhook.text("stop") == [], "the opt-out is confirmed once"
    assert await webhook.text("1") == []

    (help_text,) = await webhook.text("help")
    assert help_text == sms_reply("help")
    assert clinic.name in help_text and clinic.phone in help_text and "STOP" in help_text

    (welcome_back,) = await webhook.text("Start")
    assert welcome_back == sms_reply("start") and "STOP" in welcome_back
    assert await webhook.text("what now") == ["You said: what now"]
    assert webhook.assistant.texts == ["hello", "what now"]


@pytest.mark.asyncio
async def test_spanish_keywords_opt_out_and_in_and_are_answered_in_spanish(webhook: Webhook) -> None:
    patient = unique_patient()
    (confirmation,) = await webhook.text("PARAR", sender=patient)
    with languages.use("es"):
        assert confirmation == sms_reply("stop")
        assert await webhook.text("hola?", sender=patient) == []
        assert await webhook.text("Ayuda", sender=patient) == [sms_reply("help")]
        assert await webhook.text("comenzar", sender=patient) == [sms_reply("start")]
    assert confirmation != sms_reply("stop"), "the English confirmation is another text"
    assert await webhook.text("hola?", sender=patient) == ["You said: hola?"]


@pytest.mark.asyncio
@pytest.mark.parametrize("word", ["STOPALL", "unsubscribe", "Cancel", "END", "quit."])
async def test_every_stop_word_opts_out(webhook: Webhook, word: str) -> None:
    patient = unique_patient()
    (confirmation,) = await webhook.text(word, sender=patient)
    assert confirmation == sms_reply("stop")
    assert await webhook.text("hello?", sender=patient) == []
    (back,) = await webhook.text("UNSTOP", sender=patient)
    assert back == sms_reply("start")
    assert await webhook.text("hello?", sender=patient) == ["You said: hello?"]


@pytest.mark.asyncio
async def test_opt_out_belongs_to_the_number(webhook: Webhook) -> None:
    await webhook.text("STOP")
    assert await webhook.text("hi", sender="+15550100777") == ["You said: hi"]


@pytest.mark.asyncio
async def test_help_works_for_a_new_number(webhook: Webhook) -> None:
    (help_text,) = await webhook.text("HELP")
    assert help_text == sms_reply("help") and content.clinic().phone in help_text
    assert webhook.assistant.received == []


# --- buttons as numbered replies ------------------------------------------------------


@pytest.mark.asyncio
async def test_buttons_are_numbered_and_numbers_map_back_to_payloads(
    webhook: Webhook,
) -> None:
    offer = "Do you agree to the injection?\nReply 1 for Yes, 2 for No."
    assert await webhook.text("consent?") == [offer]
    assert await webhook.text("1.") == ["Payload /affirm received."]
    assert webhook.assistant.received[-1].metadata == {"sms": {"choice": "Yes"}}

    assert await webhook.text("consent?") == [offer]
    assert await webhook.text(" 2 ") == ["Payload /deny received."]

    assert await webhook.text("consent?") == [offer]
    assert await webhook.text("YES") == ["Payload /affirm received."]

    assert await webhook.text("consent?") == [offer]
    assert await webhook.text("5") == ["You said: 5"], "an unknown number goes to the NLU"
    assert await webhook.text("1") == ["You said: 1"], "a reply without buttons withdrew them"

    assert webhook.assistant.texts == [
        "consent?", "/affirm", "consent?", "/deny", "consent?", "/affirm",
        "consent?", "5", "1",
    ]  # fmt: skip


@pytest.mark.asyncio
async def test_the_choices_line_is_in_the_language_of_the_message(webhook: Webhook) -> None:
    (offer,) = await webhook.text("¿consiente?")
    spanish_frame = content.sms_texts_in("es")["choices"].split("{")[0]
    assert offer.startswith("¿Está de acuerdo?\n" + spanish_frame), offer
    assert content.sms_texts_in("en")["choices"].split("{")[0] not in offer
    assert await webhook.text("1") == ["Payload /affirm received."]


@pytest.mark.asyncio
async def test_choices_belong_to_one_conversation(webhook: Webhook) -> None:
    await webhook.text("consent?")
    assert await webhook.text("1", sender="+15550100888") == ["You said: 1"]
    assert await webhook.text("1") == ["Payload /affirm received."]


@pytest.mark.asyncio
async def test_keywords_between_offer_and_answer_keep_the_choices(
    webhook: Webhook,
) -> None:
    await webhook.text("consent?")
    await webhook.text("HELP")
    assert await webhook.text("2") == ["Payload /deny received."]


# --- texts ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_long_reply_is_split_at_sentences_within_1600_chars(
    webhook: Webhook,
) -> None:
    parts = await webhook.text("long answer")
    assert len(parts) > 1
    total = len(parts)
    rejoined = []
    for index, part in enumerate(parts, start=1):
        assert sms_length(part) <= MAX_SMS_CHARS
        suffix = f" ({index}/{total})"
        assert part.endswith("slowly." + suffix)
        rejoined.append(part[: -len(suffix)])
    assert " ".join(rejoined) == LONG


@pytest.mark.asyncio
async def test_twiml_is_escaped_and_markdown_is_gone(webhook: Webhook) -> None:
    status, raw = await webhook.post(twilio_form(PATIENT, "markup"))
    assert status == 200
    assert "Fees &amp; &lt;costs&gt;" in raw
    assert "a=1&amp;b=2" in raw
    assert messages_of(raw) == ["Fees & <costs> are low; see the form (https://example.org/f?a=1&b=2)."]


@pytest.mark.asyncio
async def test_a_picture_without_words_gets_a_short_answer(webhook: Webhook) -> None:
    fields = dict(twilio_form(PATIENT, ""), NumMedia="1", MediaUrl0="https://example.org/p.jpg")
    status, raw = await webhook.post(fields)
    assert status == 200
    assert messages_of(raw) == [sms_reply("no_text")]
    assert webhook.assistant.received == []


@pytest.mark.asyncio
async def test_a_failing_assistant_still_answers_with_the_clinic_phone(
    webhook: Webhook,
) -> None:
    (apology,) = await webhook.text("boom")
    assert apology == sms_reply("error") and content.clinic().phone in apology


@pytest.mark.asyncio
async def test_a_hung_turn_still_sends_what_it_said_in_time(webhook: Webhook) -> None:
    """Twilio waits 15 s: a turn stuck on a hung action server sends its first words, else the apology."""
    webhook.channel.reply_within_seconds = 0.5
    assert await webhook.text("hung after the first words") == ["Call 911 now."]
    (apology,) = await webhook.text("hung")
    assert apology == sms_reply("error") and content.clinic().emergency_number in apology


@pytest.mark.asyncio
async def test_signed_request_without_sender_is_a_bad_request(webhook: Webhook) -> None:
    fields = twilio_form(PATIENT, "hi")
    del fields["From"]
    async with webhook.client.post(
        webhook.url, data=fields, headers={"X-Twilio-Signature": sign(webhook.url, fields)}
    ) as response:
        assert response.status == 400
        assert "From" in (await response.json())["error"]
    assert webhook.assistant.received == []


@pytest.mark.asyncio
async def test_an_overlong_body_reaches_the_assistant_cut_and_the_log_only_as_an_excerpt(
    webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    """Twilio joins a long text up to 1,600 characters; a longer Body is a forged or odd request."""
    body = "I cannot breathe. " + "Please read this long text. " * 400 + "TAIL-MARKER"
    with caplog.at_level(logging.DEBUG):
        answer = await webhook.text(body)
    (message,) = webhook.assistant.received
    assert sms_length(message.text) <= MAX_SMS_CHARS
    assert message.text.startswith("I cannot breathe.") and "TAIL-MARKER" not in message.text
    assert answer[0].startswith("You said: I cannot breathe.")
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("bot.")]
    assert any("was cut" in line for line in logged)
    assert all(len(line) < 300 for line in logged), "only a bounded excerpt of a message is logged"


@pytest.mark.asyncio
async def test_an_oversized_request_is_refused_before_it_is_parsed(webhook: Webhook) -> None:
    fields = twilio_form(PATIENT, "x" * 200_000)
    status, answer = await webhook.post(fields)
    assert status == 413 and "error" in answer
    assert webhook.assistant.received == []


# --- retries --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_retried_message_sid_gives_one_turn_and_the_same_answer(
    webhook: Webhook,
) -> None:
    fields = twilio_form(PATIENT, "consent?")
    first = await webhook.post(fields)
    retry = await webhook.post(fields)
    assert first == retry
    assert first[0] == 200 and "Reply 1 for Yes" in first[1]
    assert webhook.assistant.texts == ["consent?"]


@pytest.mark.asyncio
async def test_a_retry_during_the_first_delivery_waits_for_its_answer(
    webhook: Webhook,
) -> None:
    fields = twilio_form(PATIENT, "slow")

    async def retry_soon() -> tuple[int, str]:
        await asyncio.sleep(0.3)
        return await webhook.post(fields)

    first, retry = await asyncio.gather(webhook.post(fields), retry_soon())
    assert first == retry
    assert messages_of(first[1]) == ["Slow answer."]
    assert webhook.assistant.texts == ["slow"]


def expire_claim(channel: SmsInput, message_sid: str) -> None:
    """Age a claim past its lease, as if its worker had died a minute ago (plain SQL on the table)."""
    statement = sa.text("UPDATE sms_seen_messages SET received_at = :at WHERE message_sid = :sid").bindparams(
        sa.bindparam("at", type_=sa.DateTime)
    )
    with channel.store.engine.begin() as conn:
        conn.execute(statement, {"at": utcnow() - dt.timedelta(minutes=1), "sid": message_sid})


@pytest.mark.asyncio
async def test_a_message_whose_worker_died_mid_turn_is_answered_by_a_retry_after_the_lease(
    webhook: Webhook,
) -> None:
    fields = twilio_form(PATIENT, "crash once")
    status, _ = await webhook.post(fields)
    assert status != 200, "the worker died: no answer was given and none stored"

    webhook.channel.retry_wait_seconds = 0.5
    status, _ = await webhook.post(fields)
    assert status == 503, "within the lease the claim may still be answered: no second turn, and no empty 200"
    assert webhook.assistant.received == []

    expire_claim(webhook.channel, fields["MessageSid"])
    retry = await webhook.post(fields)
    assert retry[0] == 200 and messages_of(retry[1]) == ["You said: crash once"]
    assert await webhook.post(fields) == retry, "answered now: later retries get the stored answer"
    assert webhook.assistant.texts == ["crash once"]


@pytest.mark.asyncio
async def test_two_retries_after_a_crash_run_the_turn_once(webhook: Webhook) -> None:
    fields = twilio_form(PATIENT, "crash once, then slow")
    assert (await webhook.post(fields))[0] != 200
    expire_claim(webhook.channel, fields["MessageSid"])
    first, second = await asyncio.gather(webhook.post(fields), webhook.post(fields))
    assert first == second
    assert messages_of(first[1]) == ["Answered after the crash."]
    assert webhook.assistant.texts == ["crash once, then slow"]


@pytest.mark.asyncio
async def test_a_retried_stop_is_confirmed_once(webhook: Webhook) -> None:
    fields = twilio_form(PATIENT, "STOP")
    first = await webhook.post(fields)
    retry = await webhook.post(fields)
    assert first == retry and messages_of(first[1]) == [sms_reply("stop")]


@pytest.mark.asyncio
async def test_long_clinic_facts_still_give_keyword_answers_within_1600_chars_a_message(
    webhook: Webhook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HELP, STOP and START are split like any reply: each message fits, the whole answer is there."""
    facts = yaml.safe_load((CONTENT_DIR / "clinic.yml").read_text())
    facts["clinic_name"] = "Riverside " + "Regional Spine and Pain Rehabilitation Center " * 40 + "East"
    settings = tmp_path / "clinic.yml"
    settings.write_text(yaml.safe_dump(facts))
    monkeypatch.setenv("CLINIC_SETTINGS", str(settings))
    clinic.cache_clear()
    try:
        long_name = content.clinic().name
        assert len(long_name) > MAX_SMS_CHARS
        for word, name in (("HELP", "help"), ("STOP", "stop"), ("START", "start")):
            parts = await webhook.text(word)
            assert len(parts) > 1, name
            assert all(sms_length(part) <= MAX_SMS_CHARS for part in parts), name
            assert parts[-1].endswith(f"({len(parts)}/{len(parts)})")
            whole = " ".join(part.rsplit(" (", 1)[0] for part in parts)
            assert " ".join(whole.split()) == " ".join(sms_reply(name).split()), name
        assert content.clinic().phone in " ".join(await webhook.text("HELP"))
    finally:
        monkeypatch.undo()
        clinic.cache_clear()


# --- rate limit -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.asyncio
async def test_a_flood_gets_one_notice_then_silence_and_keywords_still_work(tmp_path: Path) -> None:
    clock = Clock()
    config = SmsConfig(auth_token=TOKEN, id_secret=f"test-{uuid.uuid4().hex}", account_sid=ACCOUNT)
    channel = SmsInput(
        config, store=SmsStore(database_url(tmp_path)), rate_limit_messages=3, rate_limit_seconds=60, clock=clock
    )
    async for running in serve(channel, FakeAssistant()):
        for i in range(3):
            assert await running.text(f"question {i}") == [f"You said: question {i}"]
        (notice,) = await running.text("question 3")
        assert notice == sms_reply("rate_limited") and content.clinic().emergency_number in notice
        for i in range(4, 10):
            assert await running.text(f"question {i}") == [], "one notice, then silence"
        assert await running.text("1 more", sender="+15550100999") == ["You said: 1 more"], "per number"

        assert await running.text("HELP") == [sms_reply("help")], "HELP is never limited"
        assert await running.text("STOP") == [sms_reply("stop")], "STOP is never limited"
        assert await running.text("START") == [sms_reply("start")], "START is never limited"
        assert await running.text("still flooding") == []

        clock.now = 60.0  # the window has passed
        assert await running.text("a question at last") == ["You said: a question at last"]
        assert running.assistant.texts == ["question 0", "question 1", "question 2", "1 more", "a question at last"]


# --- privacy --------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_raw_numbers_never_reach_the_log(webhook: Webhook, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        for body in ("hi", "STOP", "hi", "START", "boom", "consent?", "1"):
            await webhook.text(body)
        await webhook.post(twilio_form(PATIENT, "x"), signature="forged")
    logged = "\n".join(record.getMessage() + str(record.args) for record in caplog.records)
    assert "5550100123" not in logged
    assert webhook.channel.config.conversation_id(PATIENT) in logged


# --- the real assistant ---------------------------------------------------------------


def _real_server_form(body: str) -> tuple[dict[str, str], str]:
    account = os.environ.get("TWILIO_ACCOUNT_SID") or ACCOUNT
    return twilio_form(unique_patient(), body, account=account), (os.environ.get("TWILIO_AUTH_TOKEN") or DEV_AUTH_TOKEN)


@pytest.mark.e2e
def test_e2e_topic_question_answered_over_sms(rasa_server: str) -> None:
    """A patient texts a topic question to ``rasa run`` with credentials.yml and gets the answer."""
    url = rasa_server.rstrip("/") + WEBHOOK
    fields, token = _real_server_form("how long does the procedure take")
    signed_url = os.environ.get("SMS_PUBLIC_URL") or url
    answer = requests.post(
        url,
        data=fields,
        headers={"X-Twilio-Signature": sign(signed_url, fields, token)},
        timeout=120,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    texts = messages_of(answer.text)
    assert texts, "the assistant answered nothing"
    assert "less than an hour" in " ".join(texts).lower()
    for text in texts:
        assert sms_length(text) <= MAX_SMS_CHARS
        assert "**" not in text and "<a " not in text

    forged = requests.post(url, data=fields, headers={"X-Twilio-Signature": "Zm9yZ2Vk"}, timeout=30)
    assert forged.status_code == 403


# --- outreach: the reminders and copies the channel's server texts first (bot/outreach/) ---------------


@pytest.mark.asyncio
async def test_the_outreach_scheduler_starts_and_stops_with_the_server(tmp_path: Path) -> None:
    config = SmsConfig(auth_token=TOKEN, id_secret=f"test-{uuid.uuid4().hex}", account_sid=ACCOUNT)
    channel = SmsInput(config, store=SmsStore(database_url(tmp_path)))
    assert not channel.outreach.running
    async for _ in serve(channel, FakeAssistant()):
        assert channel.outreach.running and channel.outreach.jobs() == 1
    assert not channel.outreach.running and channel.outreach.jobs() == 0


@pytest.mark.asyncio
async def test_outreach_off_starts_no_scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_ENABLED", "0")
    config = SmsConfig(auth_token=TOKEN, id_secret=f"test-{uuid.uuid4().hex}", account_sid=ACCOUNT)
    channel = SmsInput(config, store=SmsStore(database_url(tmp_path)))
    async for _ in serve(channel, FakeAssistant()):
        assert not channel.outreach.running


@pytest.mark.asyncio
async def test_a_reminder_turn_is_texted_and_its_choices_answer_a_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_twilio: FakeTwilio
) -> None:
    from bot.invitations import store as invitations
    from bot.outreach import RECHECK_PAYLOAD, REMINDER_KEY, timing
    from bot.outreach import store as outreach_store

    secret = f"test-{uuid.uuid4().hex}"
    use_invitation_env(monkeypatch, "https://chat.example-clinic.org", secret)
    url = f"sqlite:///{tmp_path / 'outreach.db'}"
    procedure = dt.datetime.now(clinic().timezone).date() + dt.timedelta(days=30)
    invitation, _ = invitations.create(PATIENT, "MRN-1", procedure, url=url)
    due = timing.reminder_due(procedure, clinic())
    assert due is not None
    config = SmsConfig(
        auth_token=TOKEN, id_secret=secret, account_sid=ACCOUNT, from_number=FAKE_FROM, api_base=fake_twilio.base
    )
    assistant = ReminderAssistant()
    channel = SmsInput(config, store=SmsStore(url))
    async for webhook in serve(channel, assistant):
        (sent,) = await channel.send_outreach(assistant.handle_message, now=due)
        assert sent.status == outreach_store.SENT
        (turn,) = assistant.received
        assert turn.text == RECHECK_PAYLOAD and turn.sender_id == invitation.conversation_id
        assert turn.input_channel == "sms" and turn.metadata[REMINDER_KEY] == sent.outreach_id
        (request,) = fake_twilio.requests
        form = request["form"]
        assert isinstance(form, dict) and form["To"] == PATIENT
        assert "Any new blood thinner?" in str(form["Body"]) and "Reply 1 for Yes, 2 for No" in str(form["Body"])
        # The patient's "1" is the reminder's first button.
        await webhook.text("1")
        assert assistant.received[-1].text == "/affirm"


FAKE_FROM = "+15550109999"


class ReminderAssistant(FakeAssistant):
    """Answers the reminder's turn with a question and buttons, as the re-check dialogue does."""

    async def handle_message(self, message: UserMessage) -> None:
        if message.text == "/EXTERNAL_recheck":
            self.received.append(message)
            await message.output_channel.send_text_with_buttons(
                message.sender_id, "Your injection is soon. Any new blood thinner?", YES_NO
            )
            return
        await super().handle_message(message)
