"""The website socket opened from an invitation link: one conversation across SMS and the web.

The channel runs in-process on a real server (``tests.helpers.channel_app``) with the
scripted assistant of ``devtools.widget_devserver``, whose tracker store is seeded with an
SMS exchange under the invited number's conversation id, the one the SMS channel uses.
Invitations are real rows (``bot.invitations.store``) on SQLite, and PostgreSQL where
TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import jwt
import pytest
import pytest_asyncio
from rasa.shared.core.events import BotUttered, UserUttered

from bot import content
from bot.channels.sms.twilio import SmsConfig
from bot.channels.web import invite as web_invite
from bot.channels.web import protocol
from bot.channels.web.channel import SecureSocketIOInput
from bot.channels.web.session import TokenError
from bot.content import languages
from bot.invitations import IDENTITY_LINK, IDENTITY_LINK_DOB, IDENTITY_PORTAL, link, store
from devtools.widget_devserver import ScriptedAgent
from tests.helpers.channel_app import serve_channels
from tests.helpers.chat_client import ChatClient, socket_io_connect_reply, texts
from tests.helpers.invitations import use_invitation_env

pytestmark = pytest.mark.asyncio

ORIGIN = "https://clinic.example"
PHONE = "+15550100123"
OTHER_PHONE = "+15550100124"
DOB = dt.date(1962, 3, 28)
JWT_SECRET = "web-invite-tests-widget-jwt-secret-0123456789"
SESSION_SECRET = "web-invite-tests-widget-session-secret-0123456789"
SMS_TURNS = [
    ("Can I drive home after the injection?", "No. Please bring someone to drive you home."),
    ("OK my son will drive", "Good. What else would you like to know?"),
]


@pytest.fixture(autouse=True)
def invite_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[str]:
    """Fresh invitation secrets and keys, the test's database, no invitation setting from the shell."""
    use_invitation_env(monkeypatch, ORIGIN, "web-invite-tests-sms-id-secret-0123456789")
    monkeypatch.setenv("DATABASE_URL", database_url)
    yield database_url


@pytest_asyncio.fixture
async def agent() -> ScriptedAgent:
    """The scripted assistant, its tracker store holding the invited number's SMS exchange."""
    assistant = ScriptedAgent()
    conversation = SmsConfig.from_env().conversation_id(PHONE)
    tracker = await assistant.tracker_store.get_or_create_tracker(conversation)
    for said, answer in SMS_TURNS:
        tracker.update(UserUttered(said, input_channel="sms"))
        tracker.update(BotUttered(answer))
    await assistant.tracker_store.save(tracker)
    return assistant


@pytest_asyncio.fixture
async def server(agent: ScriptedAgent) -> AsyncIterator[str]:
    """The channel on a real server; pages of ``ORIGIN`` may connect."""
    channel = SecureSocketIOInput(
        allowed_origins=[ORIGIN], env={"WIDGET_JWT_SECRET": JWT_SECRET, "WIDGET_SESSION_SECRET": SESSION_SECRET}
    )
    async with serve_channels([channel], agent) as port:
        yield f"http://127.0.0.1:{port}"


class InviteClient(ChatClient):
    """The widget as the invitation page runs it: ``auth: {invite: ...}``."""

    def __init__(self, base_url: str, invite: str) -> None:
        super().__init__(base_url, origin=ORIGIN)
        self.invite = invite

    async def connect(self, transport: str = "polling") -> None:
        await self.sio.connect(
            self.base_url,
            headers={"Origin": ORIGIN},
            auth={"invite": self.invite},
            transports=[transport],
            wait_timeout=10,
        )


async def refusal(base_url: str, auth: dict[str, str]) -> str:
    """The server's answer to a socket connect with ``auth`` (``44{"message": reason}`` when refused)."""
    return await socket_io_connect_reply(base_url, ORIGIN, auth)


async def invite(phone: str = PHONE, ref: str = "R1001", dob: dt.date | None = None) -> tuple[store.Invitation, str]:
    return await asyncio.to_thread(store.create, phone, ref, None, dob)


async def user_metadata(agent: ScriptedAgent, conversation_id: str, text: str) -> dict[str, Any]:
    """The metadata the channel gave the web message ``text``, as the tracker holds it."""
    tracker = await agent.tracker_store.retrieve(conversation_id)
    assert tracker is not None
    said = [event for event in tracker.events if isinstance(event, UserUttered) and event.text == text]
    assert said, f"{text!r} is not in conversation {conversation_id}"
    return dict(said[-1].metadata or {})


# --- one conversation -----------------------------------------------------------------------------


async def test_the_link_opens_the_sms_conversation_with_its_history(server: str, agent: ScriptedAgent) -> None:
    invitation, token = await invite()
    assert invitation.conversation_id == SmsConfig.from_env().conversation_id(PHONE)
    client = InviteClient(server, token)
    await client.connect()
    key, history = await client.start_session()
    assert history["resumed"] is True and key.startswith("v1.")
    shown = [(message["sender"], message["text"]) for message in history["messages"]]
    expected = [pair for said, answer in SMS_TURNS for pair in (("user", said), ("bot", answer))]
    assert shown == expected, "the texts so far are the web chat's history"

    reply = await client.say("who am i")
    assert texts(reply) == "patient_id=R1001 channel=web"
    metadata = await user_metadata(agent, invitation.conversation_id, "who am i")
    assert metadata["patient_id"] == "R1001" and metadata["identity"] == IDENTITY_LINK
    await client.close()


async def test_a_spanish_invitations_web_messages_start_its_sessions_in_spanish(
    server: str, agent: ScriptedAgent
) -> None:
    """As its texts do (bot/channels/sms/invited.py), whatever language the page names."""
    invitation, token = await asyncio.to_thread(store.create, PHONE, "R1001", None, None, language="es")
    client = InviteClient(server, token)
    await client.connect()
    await client.start_session(lang="en")
    reply = await client.say("   ")
    with languages.use(languages.ENGLISH):
        assert texts(reply) == content.web_text("replies.empty"), "the channel's own replies: the page's language"
    await client.say("hola")
    await client.say("y despues?")
    await client.close()
    for said in ("hola", "y despues?"):
        assert (await user_metadata(agent, invitation.conversation_id, said))[languages.METADATA_KEY] == "es"


async def test_an_english_invitation_names_no_language(server: str, agent: ScriptedAgent) -> None:
    """So the detector may still answer a patient who writes Spanish in Spanish (``language_metadata``)."""
    invitation, token = await invite()
    client = InviteClient(server, token)
    await client.connect()
    await client.start_session(lang="es")
    await client.say("hola")
    await client.close()
    assert languages.METADATA_KEY not in await user_metadata(agent, invitation.conversation_id, "hola")


async def test_the_widgets_session_key_and_start_over_cannot_leave_the_conversation(
    server: str, agent: ScriptedAgent
) -> None:
    invitation, token = await invite()
    client = InviteClient(server, token)
    await client.connect()
    await client.start_session()
    # Another conversation's key, and "start over": still the invitation's conversation and history.
    anonymous = ChatClient(server, origin=ORIGIN)
    await anonymous.connect()
    other_key, _ = await anonymous.start_session()
    await anonymous.close()
    for key, new in ((other_key, False), (None, True)):
        _, history = await client.start_session(key, new=new)
        assert history["resumed"] and history["messages"][0]["text"] == SMS_TURNS[0][0]
    await client.say("hello again")
    assert await user_metadata(agent, invitation.conversation_id, "hello again")
    await client.close()


async def test_a_browser_key_opens_only_its_own_invitations_conversation(server: str, agent: ScriptedAgent) -> None:
    first, _ = await invite(PHONE, "R1001", dob=DOB)
    second, _ = await invite(OTHER_PHONE, "R1002", dob=DOB)
    client = InviteClient(server, link.browser_key(second.invitation_id))
    await client.connect()
    _, history = await client.start_session()
    assert history["messages"] == [], "the other number's texts are not shown"
    await client.say("who am i")
    metadata = await user_metadata(agent, second.conversation_id, "who am i")
    assert metadata["patient_id"] == "R1002" and metadata["identity"] == IDENTITY_LINK_DOB
    with pytest.raises(AssertionError, match="is not in conversation"):
        await user_metadata(agent, first.conversation_id, "who am i")
    await client.close()

    # A key naming the first invitation with the second's signature is not ours.
    forged = link.browser_key(second.invitation_id).replace(second.invitation_id, first.invitation_id)
    reply = await refusal(server, {"invite": forged})
    assert reply.startswith("44") and protocol.INVITE_INVALID in reply


# --- refused at connect ---------------------------------------------------------------------------


async def test_altered_expired_and_withdrawn_links_are_refused_with_their_reason(server: str) -> None:
    invitation, token = await invite()
    now = dt.datetime.now(dt.timezone.utc)
    cases = {
        "altered": (token[:-1] + ("A" if token[-1] != "A" else "B"), protocol.INVITE_INVALID),
        "unknown": (link.sign("NoSuchInvitation", now + dt.timedelta(days=1)), protocol.INVITE_INVALID),
        "not a string": (12345, protocol.INVITE_INVALID),
        "a copy link": ("1.99999999999.AAAAAAAAAAAAAAAAAAAAAA", protocol.INVITE_INVALID),
        "expired": (link.sign(invitation.invitation_id, now - dt.timedelta(minutes=1)), protocol.INVITE_EXPIRED),
        "old browser key": (
            link.browser_key(invitation.invitation_id, now - dt.timedelta(hours=13)),
            protocol.INVITE_EXPIRED,
        ),
    }
    for name, (credential, reason) in cases.items():
        reply = await refusal(server, {"invite": credential})  # type: ignore[dict-item]
        assert reply.startswith("44") and reason in reply, name
    assert (await refusal(server, {"invite": token})).startswith("40{")
    await asyncio.to_thread(store.revoke, invitation.invitation_id)
    reply = await refusal(server, {"invite": token})
    assert reply.startswith("44") and protocol.INVITE_EXPIRED in reply


async def test_the_link_alone_is_refused_where_the_date_of_birth_is_required(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    invitation, token = await invite(dob=DOB)
    reply = await refusal(server, {"invite": token})
    assert reply.startswith("44") and protocol.INVITE_SECOND_FACTOR in reply, "an invitation with a DOB needs it"
    assert (await refusal(server, {"invite": link.browser_key(invitation.invitation_id)})).startswith("40{")

    monkeypatch.setenv("INVITE_REQUIRE_DOB", "1")
    _, other_token = await invite(OTHER_PHONE, "R1002", dob=DOB)
    reply = await refusal(server, {"invite": other_token})
    assert reply.startswith("44") and protocol.INVITE_SECOND_FACTOR in reply


async def test_a_withdrawn_invitation_ends_an_open_chat(
    server: str, agent: ScriptedAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    invitation, token = await invite()
    client = InviteClient(server, token)
    await client.connect()
    await client.start_session()
    assert texts(await client.say("before")) == "You said: before"
    monkeypatch.setattr(web_invite, "RECHECK_SECONDS", 0.0)
    await asyncio.to_thread(store.revoke, invitation.invitation_id)
    reply = await client.say("after")
    assert texts(reply) == content.web_text("replies.invite_expired")
    assert reply[0]["notice"] == protocol.NOTICE_TOKEN_EXPIRED
    tracker = await agent.tracker_store.retrieve(invitation.conversation_id)
    assert tracker is not None and "after" not in [getattr(event, "text", None) for event in tracker.events]
    await client.close()


# --- identity on every message --------------------------------------------------------------------


async def test_a_portal_token_is_named_as_such(server: str, agent: ScriptedAgent) -> None:
    token = jwt.encode({"sub": "patient-A", "exp": int(time.time()) + 600}, JWT_SECRET, algorithm="HS256")
    client = ChatClient(server, origin=ORIGIN, token=token)
    await client.connect()
    await client.start_session()
    await client.say("who am i")
    conversation = [key for key in agent.tracker_store.store if key.startswith("patient-patient-A-")]
    assert len(conversation) == 1
    metadata = await user_metadata(agent, conversation[0], "who am i")
    assert metadata["patient_id"] == "patient-A" and metadata["identity"] == IDENTITY_PORTAL
    await client.close()


async def test_an_anonymous_chat_claims_nobody(server: str, agent: ScriptedAgent) -> None:
    client = ChatClient(server, origin=ORIGIN)
    await client.connect()
    await client.start_session()
    reply = await client.say("who am i", metadata={"patient_id": "R1001", "identity": IDENTITY_LINK})
    assert texts(reply) == "patient_id=none channel=web"
    await client.close()


async def test_the_invitation_credential_is_never_logged(server: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    invitation, token = await invite()
    client = InviteClient(server, token)
    await client.connect()
    await client.start_session()
    await client.say("hello")
    await client.close()
    await refusal(server, {"invite": token[:-2] + "xx"})
    key = link.browser_key(invitation.invitation_id)
    await refusal(server, {"invite": key})
    # Everything the server side logs (this test's own WebSocket client logs the frames it sends).
    server_side = [record for record in caplog.records if not record.name.startswith("websockets.client")]
    logged = "\n".join(record.getMessage() for record in server_side)
    assert "Refused a chat socket: invite_invalid" in logged
    for secret in (token, token.split(".")[-1], key.split(".")[-1]):
        assert secret not in logged


# --- the rules alone ----------------------------------------------------------------------------


def test_bind_names_the_conversation_the_patient_and_how_far_they_proved_it() -> None:
    invitation, token = store.create(PHONE, "R1001")
    binding = web_invite.bind(token)
    assert (binding.conversation_id, binding.patient_ref, binding.identity) == (
        invitation.conversation_id,
        "R1001",
        IDENTITY_LINK,
    )
    assert binding.expires_at == invitation.link_expires_at.timestamp()
    with pytest.raises(TokenError) as refused:
        web_invite.bind("x" * 500)
    assert refused.value.reason == protocol.INVITE_INVALID


def test_the_new_refusal_codes_have_words_in_the_widget() -> None:
    for code in (protocol.INVITE_INVALID, protocol.INVITE_EXPIRED, protocol.INVITE_SECOND_FACTOR):
        assert code in protocol.CONNECT_ERRORS
        assert content.widget_text(f"connect_errors.{code}")
