"""A text from an invited number carries the patient reference: real invitations, the real SMS webhook.

The invitations are stored by ``bot.invitations.store`` in the channel's own database
(SQLite, or SMS_TEST_DATABASE_URL's PostgreSQL), and read back by the channel.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.channels.sms.channel import SmsInput
from bot.channels.sms.invited import DEFAULT_TTL_SECONDS, InvitedNumbers
from bot.channels.sms.store import SmsStore
from bot.channels.sms.twilio import SmsConfig
from bot.content import languages
from bot.invitations import IDENTITY_NUMBER
from bot.invitations import store as invitations
from tests.channels.sms.test_channel import (
    ACCOUNT,
    TOKEN,
    Clock,
    FakeAssistant,
    Webhook,
    database_url,
    serve,
    unique_patient,
)


@pytest.fixture
def id_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The channel's and the invitation store's one SMS_ID_SECRET, new per test (a shared PostgreSQL stays clean)."""
    secret = f"test-{uuid.uuid4().hex}"
    monkeypatch.setenv("SMS_ID_SECRET", secret)
    for name in ("ASSISTANT_ENV", "INVITE_REQUIRE_DOB"):
        monkeypatch.delenv(name, raising=False)
    return secret


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def webhook(tmp_path: Path, id_secret: str, clock: Clock) -> AsyncIterator[Webhook]:
    config = SmsConfig(auth_token=TOKEN, id_secret=id_secret, account_sid=ACCOUNT)
    channel = SmsInput(config, store=SmsStore(database_url(tmp_path)), retry_wait_seconds=5, clock=clock)
    async for running in serve(channel, FakeAssistant()):
        yield running


@pytest.mark.asyncio
async def test_an_invited_numbers_text_carries_the_patient_reference_and_how_it_was_proved(webhook: Webhook) -> None:
    invited, stranger = unique_patient(), unique_patient()
    invitation, _ = invitations.create(invited, "MRN-4711", url=webhook.channel.store.url)
    assert invitation.conversation_id == webhook.channel.config.conversation_id(invited)

    assert await webhook.text("what is a rhizotomy?", sender=invited) == ["You said: what is a rhizotomy?"]
    assert await webhook.text("hello", sender=stranger) == ["You said: hello"]
    mine, theirs = webhook.assistant.received
    assert mine.sender_id == invitation.conversation_id
    assert mine.metadata == {"patient_id": "MRN-4711", "identity": IDENTITY_NUMBER}
    assert theirs.metadata is None, "an uninvited number carries nothing, as before invitations"

    await webhook.text("consent?", sender=invited)
    assert await webhook.text("1", sender=invited) == ["Payload /affirm received."]
    assert webhook.assistant.received[-1].metadata == {
        "patient_id": "MRN-4711",
        "identity": IDENTITY_NUMBER,
        "sms": {"choice": "Yes"},
    }


@pytest.mark.asyncio
async def test_a_revoked_or_new_invitation_reaches_the_conversation_once_the_cache_runs_out(
    webhook: Webhook, clock: Clock
) -> None:
    invited, later = unique_patient(), unique_patient()
    url = webhook.channel.store.url
    invitation, _ = invitations.create(invited, "MRN-1", url=url)
    await webhook.text("first", sender=invited)
    await webhook.text("first", sender=later)
    invitations.revoke(invitation.invitation_id, url=url)
    invitations.create(later, "MRN-2", url=url)

    clock.now = DEFAULT_TTL_SECONDS - 1  # both answers are still kept
    await webhook.text("second", sender=invited)
    await webhook.text("second", sender=later)
    clock.now = DEFAULT_TTL_SECONDS + 1
    await webhook.text("third", sender=invited)
    await webhook.text("third", sender=later)

    refs = [(m.text, (m.metadata or {}).get("patient_id")) for m in webhook.assistant.received]
    assert refs == [
        ("first", "MRN-1"),
        ("first", None),
        ("second", "MRN-1"),
        ("second", None),
        ("third", None),  # revoked
        ("third", "MRN-2"),  # invited meanwhile
    ]


@pytest.mark.asyncio
async def test_keywords_never_look_up_an_invitation(webhook: Webhook) -> None:
    invited = unique_patient()
    invitations.create(invited, "MRN-3", url=webhook.channel.store.url)
    for word in ("HELP", "STOP", "START"):
        await webhook.text(word, sender=invited)
    assert webhook.channel.invited._known == {}, "STOP/START/HELP are answered by the channel alone"
    assert webhook.assistant.received == []


@pytest.mark.asyncio
async def test_the_patient_is_answered_when_the_invitations_cannot_be_read(
    tmp_path: Path, id_secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = SmsConfig(auth_token=TOKEN, id_secret=id_secret, account_sid=ACCOUNT)
    down = InvitedNumbers(f"sqlite:///{tmp_path / 'not-yet' / 'invitations.db'}")  # its directory is missing
    channel = SmsInput(config, store=SmsStore(database_url(tmp_path)), invited=down)
    patient = unique_patient()
    async for running in serve(channel, FakeAssistant()):
        with caplog.at_level(logging.WARNING, logger="bot.channels.sms.invited"):
            assert await running.text("is it safe?", sender=patient) == ["You said: is it safe?"]
        (message,) = running.assistant.received
        assert message.metadata is None
        (logged,) = [record for record in caplog.records if record.name == "bot.channels.sms.invited"]
        assert "could not look up an invitation" in logged.getMessage()
        assert config.conversation_id(patient) in logged.getMessage() and patient[2:] not in logged.getMessage()

        # The database is back: the failure was not kept, the next text finds the invitation.
        (tmp_path / "not-yet").mkdir()
        invitations.create(patient, "MRN-5", url=down.url)
        assert await running.text("and now?", sender=patient) == ["You said: and now?"]
        assert running.assistant.received[-1].metadata == {"patient_id": "MRN-5", "identity": IDENTITY_NUMBER}


@pytest.mark.asyncio
async def test_the_kept_answers_stay_bounded(tmp_path: Path, id_secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.channels.sms.invited.MAX_ENTRIES", 3)
    clock = Clock()
    known = InvitedNumbers(database_url(tmp_path), clock=clock)
    for i in range(3):
        assert await known.metadata(f"sms-{i}") == {}
    clock.now = DEFAULT_TTL_SECONDS  # all three out of date: dropped for the fourth
    await known.metadata("sms-3")
    assert list(known._known) == ["sms-3"]
    for i in range(4, 7):
        await known.metadata(f"sms-{i}")  # all within the TTL: the cache is cleared rather than grown
    assert len(known._known) <= 3


@pytest.mark.asyncio
async def test_a_spanish_invitations_texts_ask_for_spanish_and_an_english_ones_ask_nothing(webhook: Webhook) -> None:
    spanish, english = unique_patient(), unique_patient()
    invitations.create(spanish, "MRN-ES", url=webhook.channel.store.url, language="es")
    invitations.create(english, "MRN-EN", url=webhook.channel.store.url)
    await webhook.text("hola, tengo una pregunta", sender=spanish)
    await webhook.text("hello", sender=english)
    theirs, mine = webhook.assistant.received
    assert theirs.metadata == {"patient_id": "MRN-ES", "identity": IDENTITY_NUMBER, languages.METADATA_KEY: "es"}
    assert mine.metadata == {"patient_id": "MRN-EN", "identity": IDENTITY_NUMBER}, "English is no choice: detected"
