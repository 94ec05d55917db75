"""The website socket, as a client on the network sees it.

Each test runs against the channel with a scripted assistant and again against
the real assistant (``rasa_server``): foreign origins are refused, one patient
cannot read or write another's conversation, bad input gets a clear reply and
the socket lives on.
"""

from __future__ import annotations

import asyncio
import html
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import pytest_asyncio
import socketio
import websockets
import websockets.exceptions
from rasa.shared.core.events import UserUttered

from bot import content
from bot.channels.web import protocol
from bot.channels.web import session as web_session
from bot.channels.web.channel import SecureSocketIOInput
from bot.content import languages
from devtools.widget_devserver import ScriptedAgent
from tests.helpers.channel_app import serve_channels
from tests.helpers.chat_client import ChatClient, socket_io_connect_reply, texts

pytestmark = pytest.mark.asyncio


def patient_token(secret: str, subject: str, expires_in: int = 600) -> str:
    return jwt.encode({"sub": subject, "exp": int(time.time()) + expires_in}, secret, algorithm="HS256")


async def test_foreign_origin_is_refused(chat_server: str) -> None:
    client = ChatClient(chat_server, origin="https://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect()
    assert not client.sio.connected


async def test_foreign_origin_websocket_is_refused(chat_server: str) -> None:
    url = chat_server.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    with pytest.raises(websockets.exceptions.InvalidStatusCode) as refused:
        await websockets.connect(url, origin="https://evil.example", open_timeout=10)  # type: ignore[attr-defined,arg-type]
    assert refused.value.status_code == 400


async def test_websocket_origin_check(chat_server: str) -> None:
    allowed = await socket_io_connect_reply(chat_server, chat_server)
    assert allowed.startswith("40{") and '"sid"' in allowed
    without_origin = await socket_io_connect_reply(chat_server, None)
    assert without_origin.startswith("44") and "origin_not_allowed" in without_origin


def test_polling_handshake_is_refused_for_foreign_origins_and_allowed_with_cors(chat_server: str) -> None:
    url = f"{chat_server}/socket.io/?EIO=4&transport=polling"
    foreign = urllib.request.Request(url, headers={"Origin": "https://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(foreign, timeout=10)
    assert refused.value.code == 400
    allowed = urllib.request.Request(url, headers={"Origin": chat_server})
    with urllib.request.urlopen(allowed, timeout=10) as response:
        assert response.status == 200
        assert response.headers.get_all("Access-Control-Allow-Origin") == [chat_server]


async def test_allowed_origin_chats_and_resumes(chat_server: str) -> None:
    client = ChatClient(chat_server)
    await client.connect()
    key, history = await client.start_session()
    assert history == {"messages": [], "resumed": False, "received": []}
    reply = await client.say("how long does it take")
    assert "less than an hour" in texts(reply).lower()
    await client.close()

    again = ChatClient(chat_server)
    await again.connect()
    resumed_key, history = await again.start_session(key)
    assert resumed_key == key and history["resumed"]
    assert {"sender": "user", "text": "how long does it take"} in history["messages"]
    await again.close()


async def test_client_chosen_session_ids_get_a_new_conversation(chat_server: str) -> None:
    client = ChatClient(chat_server)
    await client.connect()
    for claimed in ["+15550100199", "web-" + "0" * 32, "default", None]:
        key, history = await client.start_session(claimed)
        assert key != claimed and key.startswith("v1.")
        assert history == {"messages": [], "resumed": False, "received": []}
    await client.close()


async def test_patient_a_cannot_read_or_write_patient_bs_conversation(chat_server: str, jwt_secret: str) -> None:
    alice = ChatClient(chat_server, token=patient_token(jwt_secret, "patient-A"))
    await alice.connect()
    alice_key, _ = await alice.start_session()
    await alice.say("how long does it take")
    alice_seen = len(alice.bot_messages)

    # Bob has his own valid token and Alice's session key (say, from a shared computer).
    bob = ChatClient(chat_server, token=patient_token(jwt_secret, "patient-B"))
    await bob.connect()
    bob_key, history = await bob.start_session(alice_key)
    assert bob_key != alice_key
    assert history == {"messages": [], "resumed": False, "received": []}, "Bob must not see Alice's messages"
    # Writing with Alice's key in the message itself goes to Bob's own conversation.
    await bob.say("hello from bob", session_id=alice_key)
    await asyncio.sleep(1)
    assert len(alice.bot_messages) == alice_seen, "Bob's turn must not reach Alice's socket"
    await bob.close()

    # Without any token, Alice's key does not open her conversation either.
    stranger = ChatClient(chat_server)
    await stranger.connect()
    stranger_key, history = await stranger.start_session(alice_key)
    assert stranger_key != alice_key and history["messages"] == []
    await stranger.close()

    # Alice herself resumes, and her conversation holds none of Bob's words.
    await alice.close()
    alice_again = ChatClient(chat_server, token=patient_token(jwt_secret, "patient-A"))
    await alice_again.connect()
    key, history = await alice_again.start_session(alice_key)
    assert key == alice_key and history["resumed"]
    shown = [message.get("text") for message in history["messages"]]
    assert "how long does it take" in shown and "hello from bob" not in shown
    await alice_again.close()


async def test_expired_and_forged_tokens_are_refused_at_connect(chat_server: str, jwt_secret: str) -> None:
    cases = {
        "token_expired": patient_token(jwt_secret, "patient-A", expires_in=-600),
        "invalid_token": patient_token("an-attacker-chosen-key-" + "x" * 20, "patient-A"),
    }
    for reason, token in cases.items():
        reply = await socket_io_connect_reply(chat_server, chat_server, {"token": token})
        assert reply.startswith("44") and reason in reply
    valid = await socket_io_connect_reply(chat_server, chat_server, {"token": patient_token(jwt_secret, "patient-A")})
    assert valid.startswith("40{")


async def test_oversized_and_empty_messages_get_a_clear_reply_and_the_socket_lives(chat_server: str) -> None:
    client = ChatClient(chat_server)
    await client.connect()
    await client.start_session()

    reply = await client.say("x" * 2001)
    assert texts(reply) == content.web_text("replies.too_long", count="2,001", limit="2,000")
    assert reply[0]["notice"] == "refused"

    reply = await client.say("   ")
    assert texts(reply) == content.web_text("replies.empty")

    reply = await client.say({"not": "text"})
    assert texts(reply) == content.web_text("replies.unreadable")

    assert client.sio.connected
    reply = await client.say("how long does it take")
    assert "less than an hour" in texts(reply).lower()
    await client.close()


async def test_a_message_before_the_session_is_bound_is_not_lost_silently(chat_server: str) -> None:
    client = ChatClient(chat_server)
    await client.connect()
    reply = await client.say("hello")
    assert texts(reply) == content.web_text("replies.not_ready")
    await client.close()


# --- scripted assistant only: replies that show what the channel passed on ---------


async def test_client_metadata_cannot_claim_a_patient(widget_stub: str, jwt_secret: str) -> None:
    anonymous = ChatClient(widget_stub)
    await anonymous.connect()
    await anonymous.start_session()
    reply = await anonymous.say("who am i", metadata={"patient_id": "patient-B"})
    assert texts(reply) == "patient_id=none channel=web"
    await anonymous.close()

    alice = ChatClient(widget_stub, token=patient_token(jwt_secret, "patient-A"))
    await alice.connect()
    await alice.start_session()
    reply = await alice.say("who am i", metadata={"patient_id": "patient-B"})
    assert texts(reply) == "patient_id=patient-A channel=web"
    await alice.close()


async def test_a_failing_turn_gets_an_apology_and_the_socket_lives(widget_stub: str) -> None:
    client = ChatClient(widget_stub)
    await client.connect()
    await client.start_session()
    reply = await client.say("boom")
    assert texts(reply) == content.web_text("replies.error") and reply[0]["notice"] == "error"
    assert content.clinic().phone in texts(reply), "a failure names a person to call"
    reply = await client.say("how long does it take")
    assert "less than an hour" in texts(reply)
    await client.close()


async def test_start_over_issues_a_new_conversation(widget_stub: str) -> None:
    client = ChatClient(widget_stub)
    await client.connect()
    first, _ = await client.start_session()
    await client.say("how long does it take")
    second, history = await client.start_session(first, new=True)
    assert second != first and history["messages"] == []
    # Only the new conversation's replies reach the socket now.
    reply = await client.say("buttons please")
    assert reply[0]["quick_replies"][0] == {
        "content_type": "text",
        "title": "Yes, tell me more",
        "payload": "/affirm",
    }
    await client.close()


def test_widget_bundle_and_demo_page_are_served(chat_server: str) -> None:
    with urllib.request.urlopen(f"{chat_server}/widget/widget.js", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/javascript")
        assert b"session_request" in response.read()
    with urllib.request.urlopen(f"{chat_server}/widget/demo", timeout=10) as response:
        page = response.read().decode()
        assert html.escape(content.clinic().name) in page
        assert html.escape(content.web_text("demo_page.heading")) in page, "the demo page's words are content/web.yml's"
        assert 'src="/widget/widget.js"' in page
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]


async def test_a_message_loop_is_slowed_down_with_a_reply(widget_stub: str) -> None:
    client = ChatClient(widget_stub)
    await client.connect()
    await client.start_session()
    for number in range(web_session.RATE_LIMIT_MESSAGES):
        assert texts(await client.say(f"message {number}")) == f"You said: message {number}"
    reply = await client.say("one too many")
    assert texts(reply) == content.web_text("replies.too_fast") and reply[0]["notice"] == "too_fast"
    assert client.sio.connected
    await client.close()


# --- every message once, across reconnects (issue 14, finding 7) -----------------------------


async def test_a_message_sent_twice_with_one_client_id_is_answered_once(chat_server: str) -> None:
    client = ChatClient(chat_server)
    await client.connect()
    await client.start_session()
    client_id = "dup0" + "a" * 28
    first = await client.sio.call("user_uttered", {"message": "how long does it take", "client_id": client_id})
    assert first == {"client_id": client_id, "status": "received"}
    done = await client.expect("turn_complete", 120)
    assert done == {"client_id": client_id}
    answers = len(client.bot_messages)
    assert "less than an hour" in texts(client.bot_messages).lower()

    # The widget sends it again after a reconnect (its acknowledgement was lost): not answered twice.
    again = await client.sio.call("user_uttered", {"message": "how long does it take", "client_id": client_id})
    assert again == {"client_id": client_id, "status": "duplicate"}
    assert await client.expect("turn_complete", 10) == {"client_id": client_id}
    await asyncio.sleep(1)
    assert len(client.bot_messages) == answers
    await client.close()


async def test_a_resend_from_a_new_socket_is_recognised_and_the_history_names_it(chat_server: str) -> None:
    client = ChatClient(chat_server)
    await client.connect()
    key, _ = await client.start_session()
    client_id = "res0" + "b" * 28
    await client.sio.call("user_uttered", {"message": "how long does it take", "client_id": client_id})
    await client.expect("turn_complete", 120)
    await client.close()

    again = ChatClient(chat_server)
    await again.connect()
    _, history = await again.start_session(key)
    assert client_id in history["received"], "the widget learns its message is already in the conversation"
    ack = await again.sio.call("user_uttered", {"message": "how long does it take", "client_id": client_id})
    assert ack["status"] == "duplicate"
    await asyncio.sleep(1)
    assert again.bot_messages == []
    await again.close()


async def test_a_resend_while_the_first_is_being_answered_is_not_answered_again(widget_stub: str) -> None:
    client = ChatClient(widget_stub)
    await client.connect()
    await client.start_session()
    client_id = "slow" + "c" * 28
    payload = {"message": "a slow question", "client_id": client_id}
    first, second = await asyncio.gather(
        client.sio.call("user_uttered", payload), client.sio.call("user_uttered", payload)
    )
    assert sorted([first["status"], second["status"]]) == ["duplicate", "received"]
    assert await client.expect("turn_complete", 10) == {"client_id": client_id}
    await asyncio.sleep(2)
    assert texts(client.bot_messages) == "You said: a slow question"
    await client.close()


async def raw_session(base_url: str) -> Any:
    """A WebSocket speaking Engine.IO/Socket.IO frames by hand, bound to a new conversation."""
    url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = await websockets.connect(url, origin=base_url, open_timeout=10, max_size=None)  # type: ignore[attr-defined,arg-type]
    assert str(await asyncio.wait_for(ws.recv(), 10)).startswith("0{")
    await ws.send("40")
    assert str(await asyncio.wait_for(ws.recv(), 10)).startswith("40")
    await ws.send('42["session_request",{"session_key":null}]')
    await raw_until(ws, '42["session_history"')
    return ws


async def raw_until(ws: Any, prefix: str, timeout: float = 60) -> list[str]:
    """Frames up to the first one starting with ``prefix`` (the last), answering the server's pings."""
    deadline = time.monotonic() + timeout
    frames: list[str] = []
    while True:
        frame = str(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
        if frame == "2":
            await ws.send("3")
            continue
        frames.append(frame)
        if frame.startswith(prefix):
            return frames


def raw_bot_texts(frames: list[str]) -> list[dict[str, Any]]:
    return [json.loads(frame[2:])[1] for frame in frames if frame.startswith('42["bot_uttered"')]


async def test_a_100_kb_frame_gets_the_over_long_reply_and_the_socket_lives(chat_server: str) -> None:
    ws = await raw_session(chat_server)
    try:
        frame = '421["user_uttered",' + json.dumps({"message": "x" * 100_000, "client_id": "big0" + "d" * 28}) + "]"
        await ws.send(frame)
        frames = await raw_until(ws, "431")  # the acknowledgement comes last
        assert json.loads(frames[-1][3:]) == [{"client_id": None, "status": "refused"}]
        assert raw_bot_texts(frames) == [
            {"text": content.web_text("replies.too_long", count=f"{len(frame):,}", limit="2,000"), "notice": "refused"}
        ]
        # Still connected and still bound to its conversation.
        await ws.send('422["user_uttered",{"message":"how long does it take"}]')
        frames = await raw_until(ws, '42["turn_complete"', 120)
        assert "less than an hour" in " ".join(reply["text"] for reply in raw_bot_texts(frames)).lower()
    finally:
        await ws.close()


async def test_a_message_too_long_to_parse_over_long_polling_gets_the_over_long_reply(chat_server: str) -> None:
    """Over max_frame_chars (16 KB) but within the server's body limit (MAX_REQUEST_BYTES, 64 KB).

    A larger polling POST is refused with 413 by the Rasa server before it is read
    (bot/rasa/body_limit.py); the widget uses a WebSocket, where the test above holds.
    """
    client = ChatClient(chat_server)
    await client.connect()
    await client.start_session()
    reply = await client.say("y" * 50_000)
    assert reply[0]["notice"] == "refused"
    assert reply[0]["text"].startswith(content.web_text("replies.too_long", count="", limit="2,000")[:20])
    assert client.sio.connected
    assert "less than an hour" in texts(await client.say("how long does it take")).lower()
    await client.close()


def test_a_page_can_ask_whether_its_origin_may_chat(chat_server: str) -> None:
    def ask(origin: str) -> tuple[dict[str, Any], str | None]:
        request = urllib.request.Request(f"{chat_server}/widget/origin", headers={"Origin": origin})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read()), response.headers.get("Access-Control-Allow-Origin")

    refused, cors = ask("https://evil.example")
    assert refused == {"origin_allowed": False, "reason": "origin_not_allowed"} and cors == "*"
    allowed, _ = ask(chat_server)
    assert allowed == {"origin_allowed": True, "reason": None}


def test_rate_limits_come_from_credentials() -> None:
    channel = SecureSocketIOInput.from_credentials(
        {"rate_limit_messages": 4, "rate_limit_address_messages": 9, "rate_limit_seconds": 12}
    )
    assert isinstance(channel, SecureSocketIOInput)
    assert (channel.limits.conversations.limit, channel.limits.addresses.limit) == (4, 9)
    assert channel.limits.addresses.window_seconds == 12
    with pytest.raises(web_session.WidgetConfigError, match="max_frame_chars"):
        SecureSocketIOInput.from_credentials({"max_frame_chars": 1000})


# --- the page's language (the channel in this process, the scripted assistant) -------------------

PAGE_ORIGIN = "https://clinic.example"


@pytest_asyncio.fixture
async def agent() -> ScriptedAgent:
    """The scripted assistant; its tracker store holds what the channel passed on, metadata included."""
    return ScriptedAgent()


@pytest_asyncio.fixture
async def local_server(agent: ScriptedAgent) -> AsyncIterator[str]:
    """The channel on a real server in this process; pages of ``PAGE_ORIGIN`` may connect."""
    channel = SecureSocketIOInput(
        allowed_origins=[PAGE_ORIGIN],
        env={"WIDGET_SESSION_SECRET": "web-channel-language-tests-session-secret-0123456789"},
    )
    async with serve_channels([channel], agent) as port:
        yield f"http://127.0.0.1:{port}"


def in_language(language: str, name: str, **values: Any) -> str:
    """The channel's reply ``name`` (content/web.yml) as composed in ``language``."""
    with languages.use(language):
        return content.web_text(name, **values)


async def sent_languages(agent: ScriptedAgent) -> list[tuple[str, Any]]:
    """Each message the assistant got, with the language its metadata asked for (None: none)."""
    said = []
    for conversation in await agent.tracker_store.keys():
        tracker = await agent.tracker_store.retrieve(conversation)
        assert tracker is not None
        said += [
            (event.text, (event.metadata or {}).get(languages.METADATA_KEY))
            for event in tracker.events
            if isinstance(event, UserUttered)
        ]
    return said


async def test_the_page_language_starts_a_new_conversation_in_it(local_server: str, agent: ScriptedAgent) -> None:
    client = ChatClient(local_server, origin=PAGE_ORIGIN)
    await client.connect()
    key, _ = await client.start_session(lang="es-MX")
    await client.say("/greet")
    await client.say("cuanto dura")
    await client.close()
    # Only the message that starts the conversation asks: a later switch to English is never undone.
    assert await sent_languages(agent) == [("/greet", "es"), ("cuanto dura", None)]

    again = ChatClient(local_server, origin=PAGE_ORIGIN)
    await again.connect()
    _, history = await again.start_session(key, lang="es")
    assert history["resumed"]
    await again.say("y despues?")
    await again.close()
    assert (await sent_languages(agent))[-1] == ("y despues?", None), "a conversation under way keeps its own"


async def test_a_conversation_resumed_before_its_first_message_still_starts_in_the_page_language(
    local_server: str, agent: ScriptedAgent
) -> None:
    first = ChatClient(local_server, origin=PAGE_ORIGIN)
    await first.connect()
    key, _ = await first.start_session(lang="es")
    await first.close()  # a reload before the start payload went

    again = ChatClient(local_server, origin=PAGE_ORIGIN)
    await again.connect()
    resumed, _ = await again.start_session(key, lang="es")
    assert resumed == key
    await again.say("/greet")
    await again.close()
    assert await sent_languages(agent) == [("/greet", "es")]


async def test_start_over_starts_the_new_conversation_in_the_page_language(
    local_server: str, agent: ScriptedAgent
) -> None:
    client = ChatClient(local_server, origin=PAGE_ORIGIN)
    await client.connect()
    key, _ = await client.start_session(lang="es")
    await client.say("hola")
    await client.start_session(key, new=True, lang="es")
    await client.say("hola otra vez")
    await client.close()
    assert sorted(await sent_languages(agent)) == [("hola", "es"), ("hola otra vez", "es")]


@pytest.mark.parametrize("lang", ["fr", "", 7, ["es"], {"es": 1}, "<script>", "x" * 5000, None])
async def test_a_language_without_texts_or_not_a_code_is_not_passed_on(
    local_server: str, agent: ScriptedAgent, lang: Any
) -> None:
    client = ChatClient(local_server, origin=PAGE_ORIGIN)
    await client.connect()
    await client.start_session(lang=lang)
    reply = await client.say("   ")
    assert texts(reply) == in_language(languages.ENGLISH, "replies.empty")
    await client.say("hello")
    await client.close()
    assert await sent_languages(agent) == [("hello", None)]


async def test_the_channels_own_replies_are_in_the_page_language(local_server: str) -> None:
    client = ChatClient(local_server, origin=PAGE_ORIGIN)
    await client.connect()
    await client.start_session(lang="es")
    limit = protocol.MAX_MESSAGE_CHARS
    expected = {
        "": in_language("es", "replies.empty"),
        "x" * (limit + 1): in_language("es", "replies.too_long", count=f"{limit + 1:,}", limit=f"{limit:,}"),
        "boom": in_language("es", "replies.error"),  # the scripted assistant fails on it
    }
    for said, reply_text in expected.items():
        reply = await client.say(said)
        assert texts(reply) == reply_text and reply[0]["notice"] in (protocol.NOTICE_REFUSED, protocol.NOTICE_ERROR)
    assert in_language("es", "replies.empty") != in_language("en", "replies.empty"), "content/es/web.yml is read"
    reply = await client.say(None)
    assert texts(reply) == in_language("es", "replies.unreadable")
    await client.close()


async def test_too_fast_is_said_in_the_page_language(agent: ScriptedAgent) -> None:
    channel = SecureSocketIOInput(
        allowed_origins=[PAGE_ORIGIN],
        rate_limit_messages=1,
        env={"WIDGET_SESSION_SECRET": "web-channel-language-tests-session-secret-0123456789"},
    )
    async with serve_channels([channel], agent) as port:
        client = ChatClient(f"http://127.0.0.1:{port}", origin=PAGE_ORIGIN)
        await client.connect()
        await client.start_session(lang="es")
        await client.say("hola")
        reply = await client.say("hola de nuevo")
        assert texts(reply) == in_language("es", "replies.too_fast")
        await client.close()


def demo_page(server: str, query: str = "") -> tuple[str, Any]:
    with urllib.request.urlopen(f"{server}/widget/demo{query}", timeout=10) as response:
        return response.read().decode(), response.headers


@pytest.mark.parametrize("asked", ["?lang=es", "?lang=es-MX", "?lang=ES"])
async def test_the_demo_page_in_spanish_has_its_widget_in_spanish(local_server: str, asked: str) -> None:
    page, headers = await asyncio.to_thread(demo_page, local_server, asked)
    assert '<html lang="es">' in page and 'data-lang="es"' in page and headers["Content-Language"] == "es"
    with languages.use(languages.SPANISH):
        launcher = content.widget_text("labels.launcher")
        for name in ("demo_page.heading", "demo_page.emergency"):
            assert html.escape(content.web_text(name)) in page, name
        assert html.escape(content.web_text("demo_page.how_to_open", launcher=launcher)) in page
    assert html.escape(content.clinic().hours_text(languages.SPANISH)) in page
    assert html.escape(content.web_text("demo_page.heading")) not in page, "no English heading"


@pytest.mark.parametrize("asked", ["", "?lang=fr", "?lang=", "?lang=%3Cscript%3E"])
async def test_the_demo_page_is_english_unless_spanish_is_asked(local_server: str, asked: str) -> None:
    page, headers = await asyncio.to_thread(demo_page, local_server, asked)
    assert '<html lang="en">' in page and 'data-lang="en"' in page and headers["Content-Language"] == "en"
    assert html.escape(content.web_text("demo_page.heading")) in page
    assert "<script>" not in page.split("<body>")[1].replace('<script src="/widget/widget.js"', "")
