"""The REST channel through its real Sanic blueprint and a real HTTP client (issue 14, findings 1 and 5).

A stand-in assistant stands behind the blueprint, registered as Rasa registers channels
(tests/helpers/channel_app.py), so these tests exercise the channel alone. A client on another
address is a real socket from this machine's non-loopback address where it has one, and
otherwise a socket peer address set by a test-only middleware. The last test talks to the real
trained assistant: a caller's metadata and input_channel cannot shape a consent record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import pytest
import requests
import yaml

from bench import scenario
from bot import settings
from bot.channels.rest.channel import SecureRestInput
from bot.channels.rest.rules import RestSettings
from bot.records import consent_store
from bot.records.flags import CLIENT_ADDRESS_KEY
from devtools.launch import Running
from tests.helpers.channel_app import RecordingAssistant, non_loopback_address, serve_channels
from tests.helpers.conversations import joined, new_sender

WEBHOOK = "/webhooks/rest/webhook"
PEER = "X-Test-Peer"  # test-only: the socket peer address the middleware gives the request
REMOTE = "203.0.113.7"
TOKEN = "rest-test-token-0123456789abcdef0123"


@dataclass
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass
class Rest:
    """A running app with the REST channel, and a client to post to it."""

    port: int
    assistant: RecordingAssistant
    channel: SecureRestInput
    client: aiohttp.ClientSession
    host: str = "127.0.0.1"

    async def post(
        self,
        body: Any = None,
        *,
        raw: bytes | None = None,
        token: str | None = None,
        peer: str | None = None,
        host: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if peer is not None:
            sent[PEER] = peer
        data = raw if raw is not None else json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
        url = f"http://{host or self.host}:{self.port}{WEBHOOK}"
        async with self.client.post(url, data=data, headers=sent) as response:
            text = await response.text()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            return Answer(response.status, parsed, dict(response.headers))

    async def say(self, sender: str, message: str, **kwargs: Any) -> Answer:
        return await self.post({"sender": sender, "message": message}, **kwargs)


@asynccontextmanager
async def rest_server(
    rest: RestSettings | None = None, host: str = "127.0.0.1", sanic: Mapping[str, Any] | None = None
) -> AsyncIterator[Rest]:
    channel = SecureRestInput(rest or RestSettings())
    assistant = RecordingAssistant()
    async with (
        serve_channels([channel], assistant, host=host, peer_header=PEER, config=sanic) as port,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as client,
    ):
        yield Rest(port, assistant, channel, client)


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], "bad input is answered, never logged as a failure"


# --- who may call ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_this_machine_may_call_without_a_token_and_the_answer_is_rasas() -> None:
    async with rest_server() as rest:
        answer = await rest.say("patient-1", "how long does it take?")
        assert answer.status == 200
        assert answer.body == [{"recipient_id": "patient-1", "text": "You said: how long does it take?"}]
        (message,) = rest.assistant.received
        assert (message.sender_id, message.input_channel) == ("patient-1", "rest")
        async with rest.client.get(f"http://127.0.0.1:{rest.port}/webhooks/rest/") as health:
            assert health.status == 200 and await health.json() == {"status": "ok"}


@pytest.mark.asyncio
async def test_a_client_on_another_address_cannot_continue_a_patients_conversation() -> None:
    """A real socket from this machine's network address: the finding as an attacker sees it."""
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address other than loopback")
    async with rest_server(host="0.0.0.0") as rest:
        answer = await rest.say("patient-1a2b3c-4d5e", "yes I agree", host=address)
        assert answer.status == 403
        assert answer.body["error"] == "forbidden" and "REST_API_TOKEN" in answer.body["reason"]
        assert (await rest.say("patient-1", "hello")).status == 200, "the same server still answers loopback"
        assert [m.text for m in rest.assistant.received] == ["hello"]


@pytest.mark.parametrize("peer", [REMOTE, "10.0.0.5", "::ffff:8.8.8.8", "2001:db8::1"])
@pytest.mark.asyncio
async def test_without_a_token_every_other_address_is_refused(peer: str) -> None:
    async with rest_server() as rest:
        answer = await rest.say("sms-0123abcd", "I consent", peer=peer)
        assert answer.status == 403 and answer.body["error"] == "forbidden"
        assert rest.assistant.received == []


@pytest.mark.asyncio
async def test_forwarded_headers_are_not_trusted() -> None:
    async with rest_server() as rest:
        spoofed = await rest.say("patient-1", "hi", peer=REMOTE, headers={"X-Forwarded-For": "127.0.0.1"})
        assert spoofed.status == 403, "a caller cannot claim to be this machine"
        for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
            proxied = await rest.say("patient-1", "hi", headers={header: f"for={REMOTE}"})
            assert proxied.status == 403, f"{header}: a request through a local proxy is not this machine's"
        assert rest.assistant.received == []


@pytest.mark.asyncio
async def test_with_a_token_only_its_holders_are_answered_from_anywhere() -> None:
    async with rest_server(RestSettings(token=TOKEN)) as rest:
        missing = await rest.say("patient-1", "hi")
        assert missing.status == 401 and missing.body["error"] == "unauthorized"
        assert missing.headers.get("WWW-Authenticate") == "Bearer"
        assert (await rest.say("patient-1", "hi", token=TOKEN[:-1] + "x")).status == 401
        assert (await rest.say("patient-1", "hi", token=TOKEN + "x")).status == 401
        assert (await rest.say("patient-1", "hi", headers={"Authorization": TOKEN})).status == 401, "no scheme"
        assert (await rest.say("patient-1", "from afar", token=TOKEN, peer=REMOTE)).status == 200
        assert (await rest.say("patient-1", "here", headers={"Authorization": f"bearer {TOKEN}"})).status == 200
        assert [m.text for m in rest.assistant.received] == ["from afar", "here"]


def test_the_token_and_limits_come_from_the_environment_and_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings.ENVIRONMENT_ENV, raising=False)
    monkeypatch.setenv("REST_API_TOKEN", " dev-token ")
    channel = SecureRestInput.from_credentials({"max_body_bytes": 4096, "rate_limit_sender_messages": 5})
    assert channel.rest == RestSettings(token="dev-token", max_body_bytes=4096, sender_messages=5)
    with pytest.raises(settings.SettingsError, match="max_message_chars"):
        RestSettings.from_options({"max_message_chars": -1}, env={})


def test_production_needs_a_real_token(caplog: pytest.LogCaptureFixture) -> None:
    production = {settings.ENVIRONMENT_ENV: settings.PRODUCTION}
    with pytest.raises(settings.SettingsError, match="REST_API_TOKEN"):
        RestSettings.from_options({}, env={**production, "REST_API_TOKEN": "short"})
    assert RestSettings.from_options({}, env={**production, "REST_API_TOKEN": TOKEN}).token == TOKEN
    with caplog.at_level(logging.WARNING, logger="bot.channels.rest"):
        channel = SecureRestInput(RestSettings.from_options({}, env=production))
    assert channel.rest.refuse_all
    assert [r.getMessage() for r in caplog.records if "every REST request is refused" in r.getMessage()]


@pytest.mark.asyncio
async def test_in_production_without_a_token_every_request_is_refused() -> None:
    production = RestSettings.from_options({}, env={settings.ENVIRONMENT_ENV: settings.PRODUCTION})
    async with rest_server(production) as rest:
        answer = await rest.say("patient-1", "hi")
        assert answer.status == 403 and answer.body["error"] == "rest_disabled"
        assert rest.assistant.received == []


def test_the_project_enables_this_channel_not_rasas_open_one() -> None:
    from rasa.core.run import _create_single_channel  # type: ignore[import-untyped]

    credentials = yaml.safe_load((settings.PROJECT_ROOT / "credentials.yml").read_text())
    assert "rest" not in credentials, "Rasa's own RestInput answers anyone"
    (key,) = [key for key in credentials if key.endswith("RestInput")]
    channel = _create_single_channel(key, credentials[key])
    assert isinstance(channel, SecureRestInput) and channel.name() == "rest"
    assert channel.rest.max_body_bytes <= 64 * 1024


# --- what a request must hold ----------------------------------------------------------------

BAD_BODIES = {
    "empty": b"",
    "not JSON": b"sender=me&message=hi",
    "an array": b'[{"sender": "me", "message": "hi"}]',
    "a string": b'"hi"',
    "a number": b"42",
    "not UTF-8": b'{"sender": "me", "message": "\xff"}',
    "no sender": b'{"message": "hi"}',
    "null sender": b'{"sender": null, "message": "hi"}',
    "numeric sender": b'{"sender": 7, "message": "hi"}',
    "empty sender": b'{"sender": " ", "message": "hi"}',
    "no message": b'{"sender": "me"}',
    "null message": b'{"sender": "me", "message": null}',
    "numeric message": b'{"sender": "me", "message": 5}',
    "object message": b'{"sender": "me", "message": {"text": "hi"}}',
    "blank message": b'{"sender": "me", "message": "   "}',
    "deep nesting": b'{"sender": "me", "message": ' + b"[" * 5000 + b"]" * 5000 + b"}",
}


@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
@pytest.mark.asyncio
async def test_malformed_bodies_get_400_with_a_reason_and_no_traceback(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async with rest_server(RestSettings(max_body_bytes=64 * 1024)) as rest:
        with caplog.at_level(logging.DEBUG):
            answer = await rest.post(raw=body)
        assert answer.status == 400, answer.body
        assert answer.body["error"] == "bad_request" and answer.body["reason"]
        assert rest.assistant.received == []
    no_tracebacks(caplog)


@pytest.mark.asyncio
async def test_no_sender_is_refused_rather_than_shared_as_default() -> None:
    async with rest_server() as rest:
        answer = await rest.post({"message": "my answers"})
        assert answer.status == 400 and "sender" in answer.body["reason"]
        assert rest.assistant.received == []


@pytest.mark.asyncio
async def test_a_long_message_gets_400_naming_the_limit() -> None:
    async with rest_server(RestSettings(max_message_chars=50, max_body_bytes=4096)) as rest:
        answer = await rest.say("patient-1", "x" * 51)
        assert answer.status == 400 and answer.body["error"] == "too_long"
        assert "50 characters" in answer.body["reason"]
        assert (await rest.say("patient-1", "x" * 50)).status == 200


async def chunks(total: int, size: int = 4096) -> AsyncIterator[bytes]:
    """A body sent chunked, with no Content-Length to check up front."""
    body = json.dumps({"sender": "patient-1", "message": "x" * total}).encode()
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.asyncio
async def test_a_big_body_gets_413_before_it_is_parsed(caplog: pytest.LogCaptureFixture) -> None:
    async with rest_server(RestSettings(max_body_bytes=16 * 1024, max_message_chars=100_000)) as rest:
        with caplog.at_level(logging.DEBUG):
            declared = await rest.say("patient-1", "x" * 17_000)
            assert declared.status == 413 and declared.body["error"] == "too_large"
            assert "16384 bytes" in declared.body["reason"]
            megabyte = await rest.say("patient-1", "help " * 200_000)
            assert megabyte.status == 413
            ten_megabytes = await rest.post(raw=b'{"sender": "patient-1", "message": "' + b"x" * 10_000_000 + b'"}')
            assert ten_megabytes.status == 413
            refused_first = await rest.say("patient-1", "help " * 200_000, peer=REMOTE)
            assert refused_first.status == 403, "who may call is decided before any of the body is read"
            url = f"http://127.0.0.1:{rest.port}{WEBHOOK}"
            async with rest.client.post(url, data=chunks(100_000)) as streamed:
                assert streamed.status == 413, "a chunked body is counted as it arrives"
            assert (await rest.say("patient-1", "still here")).status == 200
        assert [m.text for m in rest.assistant.received] == ["still here"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "help help" not in logged and "xxxx" not in logged, "no part of a refused body is logged"
    no_tracebacks(caplog)


@pytest.mark.asyncio
async def test_input_channel_and_metadata_cannot_name_the_channel_or_the_patient() -> None:
    async with rest_server() as rest:
        answer = await rest.post(
            {
                "sender": "patient-1",
                "message": "Go ahead",
                "input_channel": "socketio",
                "metadata": {"patient_id": "patient-B", "channel": "sms"},
            }
        )
        assert answer.status == 200
        (message,) = rest.assistant.received
        assert message.input_channel == "rest"
        assert message.metadata == {CLIENT_ADDRESS_KEY: "127.0.0.1"}, "only the server's reading of the caller"


@pytest.mark.asyncio
async def test_a_failing_turn_answers_what_was_said_and_logs_no_message_text(caplog: pytest.LogCaptureFixture) -> None:
    async with rest_server() as rest:
        with caplog.at_level(logging.ERROR, logger="bot.channels.rest"):
            answer = await rest.say("patient-1", "boom")
        assert (answer.status, answer.body) == (200, [])
    (record,) = [r for r in caplog.records if r.name.startswith("bot.channels.rest")]
    assert record.exc_info is not None, "a real failure keeps its traceback"
    assert "boom" not in record.getMessage()


# --- rate limits -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_conversation_over_its_limit_gets_429_and_others_go_on() -> None:
    async with rest_server(RestSettings(sender_messages=3, rate_limit_seconds=60)) as rest:
        statuses = [(await rest.say("patient-1", f"message {i}")).status for i in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await rest.say("patient-1", "again")
        assert limited.body["error"] == "rate_limited" and limited.headers.get("Retry-After") == "60"
        assert (await rest.say("patient-2", "hello")).status == 200
        assert len(rest.assistant.received) == 4


@pytest.mark.asyncio
async def test_a_client_address_over_its_limit_gets_429_token_guesses_included() -> None:
    limits = RestSettings(token=TOKEN, address_messages=3, sender_messages=100)
    async with rest_server(limits) as rest:
        assert (await rest.say("patient-1", "guess", token="wrong", peer=REMOTE)).status == 401
        statuses = [(await rest.say(f"patient-{i}", "hi", token=TOKEN, peer=REMOTE)).status for i in range(3)]
        assert statuses == [200, 200, 429], "a refused guess counts against its address"
        assert (await rest.say("patient-9", "hi", token=TOKEN, peer="203.0.113.8")).status == 200
        spoofed = await rest.say("patient-8", "hi", token=TOKEN, peer=REMOTE, headers={"X-Forwarded-For": "1.2.3.4"})
        assert spoofed.status == 429, "a caller cannot leave its limit behind by naming another address"
        local = [(await rest.say(f"local-{i}", "hi", token=TOKEN)).status for i in range(5)]
        assert local == [200] * 5, "this machine (tests, tools) has no address limit"


@pytest.mark.asyncio
async def test_behind_a_configured_proxy_the_forwarded_address_is_limited() -> None:
    """An operator's SANIC_PROXIES_COUNT=1 (nginx in front): nginx's last X-Forwarded-For entry is the client."""
    limits = RestSettings(token=TOKEN, address_messages=1, sender_messages=100)
    async with rest_server(limits, sanic={"PROXIES_COUNT": 1}) as rest:

        async def via_proxy(client: str, token: str | None = TOKEN) -> int:
            forwarded = {"X-Forwarded-For": f"198.51.100.99, {client}"}  # the first entry is the caller's own claim
            return (await rest.say(f"patient-{client}", "hi", token=token, peer="10.0.0.2", headers=forwarded)).status

        assert [await via_proxy("198.51.100.1"), await via_proxy("198.51.100.2")] == [200, 200]
        assert await via_proxy("198.51.100.1") == 429
    async with rest_server(sanic={"PROXIES_COUNT": 1}) as rest:
        local_proxy = await rest.say("patient-1", "hi", headers={"X-Forwarded-For": "127.0.0.1"})
        assert local_proxy.status == 403, "through a proxy even a loopback client needs the token"


def test_the_limits_hold_per_window() -> None:
    now = [0.0]
    channel = SecureRestInput(replace(RestSettings(), sender_messages=1, rate_limit_seconds=10), clock=lambda: now[0])
    assert channel.by_sender.allow("a") and not channel.by_sender.allow("a")
    now[0] = 10.0
    assert channel.by_sender.allow("a")


# --- the real assistant ----------------------------------------------------------------------


@pytest.mark.e2e
def test_a_rest_caller_cannot_choose_the_channel_or_patient_of_a_consent_record(assistant: Running) -> None:
    sender = new_sender()
    forged: dict[str, Any] = {
        "input_channel": "socketio",
        "metadata": {"patient_id": "patient-B", "channel": "socketio"},
    }
    for text in scenario.consent_pass(0):
        answer = requests.post(
            assistant.base_url + WEBHOOK, json={"sender": sender, "message": text, **forged}, timeout=60
        )
        assert answer.status_code == 200, answer.text
    assert "recorded that you want to go ahead" in joined(answer.json())
    record = consent_store.latest(sender, assistant.database_url)
    assert record is not None
    assert (record.channel, record.patient_ref) == ("rest", None)
