"""Closed-loop load: C conversations at once, each sending its next message as soon as the last is answered.

Three ways in, as patients arrive:

* ``rest``: POST /webhooks/rest/webhook, the answer is the response body;
* ``socketio``: the website channel over a WebSocket (Engine.IO 4 / Socket.IO 5
  frames, spoken here directly with ``websockets``): connect with an allowed
  Origin, ``session_request`` -> ``session_confirm`` (the server issues the
  conversation id), then ``user_uttered`` -> ``bot_uttered``... ``turn_complete``;
* ``socketio-polling``: the same through python-socketio's client, which polls
  over HTTP (python-engineio's WebSocket transport needs a newer aiohttp than
  Rasa 3.6 pins). Polling is what needs sticky sessions behind a balancer.

A message's latency is from sending it to the complete answer (the REST
response, or ``turn_complete``). Errors are failed requests, timeouts, non-200
answers, and answers with no bot message.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import websockets

from bench import scenario

TRANSPORTS = ("rest", "socketio", "socketio-polling")
MESSAGE_TIMEOUT = 60.0
CONNECT_TIMEOUT = 20.0
MAX_CONVERSATIONS_PER_WORKER = 10_000
MAX_ERROR_EXAMPLES = 5


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..100) of ``values``; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 100))))
    return ordered[rank - 1]


def kind_of(text: str) -> str:
    if text in scenario.TOPICS:
        return "topic"
    if text in (*scenario.GREETINGS, *scenario.SMALL_TALK, *scenario.CLOSINGS):
        return "small talk"
    return "consent"


@dataclass
class LoadResult:
    """What one load run measured."""

    transport: str
    concurrency: int
    messages_per_conversation: int
    latencies_ms: list[float] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    empty_replies: int = 0
    client_cpu_s: float = 0.0
    wall_s: float = 0.0
    conversations: int = 0
    senders: list[str] = field(default_factory=list)
    consent_senders: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_examples) < MAX_ERROR_EXAMPLES:
            self.error_examples.append(what[:300])

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    def summary(self) -> dict[str, Any]:
        by_kind = {}
        for kind in ("topic", "small talk", "consent"):
            values = [ms for ms, k in zip(self.latencies_ms, self.kinds, strict=True) if k == kind]
            if values:
                by_kind[kind] = round(percentile(values, 50), 1)
        return {
            "transport": self.transport,
            "concurrency": self.concurrency,
            "messages_per_conversation": self.messages_per_conversation,
            "conversations": self.conversations,
            "messages": self.answered + self.errors,
            "errors": self.errors,
            "error_examples": self.error_examples,
            "empty_replies": self.empty_replies,
            "p50_ms": round(percentile(self.latencies_ms, 50), 1),
            "p95_ms": round(percentile(self.latencies_ms, 95), 1),
            "p99_ms": round(percentile(self.latencies_ms, 99), 1),
            "max_ms": round(max(self.latencies_ms, default=0.0), 1),
            "msgs_per_s": round(self.answered / self.wall_s, 1) if self.wall_s else 0.0,
            "wall_s": round(self.wall_s, 2),
            # CPU this load generator used per answered message (it shares the machine with the servers).
            "client_cpu_ms_per_message": round(self.client_cpu_s * 1000 / self.answered, 1) if self.answered else 0,
            "p50_by_kind_ms": by_kind,
        }


# --- one conversation per transport -------------------------------------------------------


def refused(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The replies, unless the channel refused the message (a ``notice``: too fast, too long, error...)."""
    for reply in replies:
        if isinstance(reply, dict) and reply.get("notice"):
            raise RuntimeError(f"the channel answered with notice {reply['notice']!r}: {reply.get('text', '')[:80]}")
    return replies


class RestChat:
    """A patient on the REST channel."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, sender: str) -> None:
        self.http, self.base_url, self.sender_id = http, base_url, sender
        # The servers' REST_API_TOKEN, if they have one (bot/channels/rest/: REST then needs it).
        token = os.environ.get("REST_API_TOKEN", "").strip()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def open(self) -> None:
        return None

    async def say(self, text: str, base_url: str | None = None) -> list[dict[str, Any]]:
        url = f"{base_url or self.base_url}/webhooks/rest/webhook"
        payload = {"sender": self.sender_id, "message": text}
        async with self.http.post(url, json=payload, headers=self.headers) as response:
            body = await response.text()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {body[:200]}")
        return list(json.loads(body))

    async def close(self) -> None:
        return None


class SocketChat:
    """What both website-socket clients share: events arrive on a queue; turns end with turn_complete."""

    def __init__(self) -> None:
        self.sender_id = ""
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def _send(self, event: str, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def _closed(self) -> bool:
        """Whether no more events can arrive (the reader stopped)."""
        return False

    async def _next(self, names: tuple[str, ...], timeout: float) -> tuple[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {names} within {timeout} s")
            if self._closed() and self.queue.empty():
                raise RuntimeError(f"socket closed while waiting for {names}")
            try:
                name, data = await asyncio.wait_for(self.queue.get(), min(remaining, 1.0))
            except asyncio.TimeoutError:
                continue
            if name in names:
                return name, data
            if name == "disconnect":
                raise RuntimeError("the server closed the socket")

    async def _confirm_session(self) -> None:
        """Ask the channel for a session; its server-issued key names the conversation."""
        await self._send("session_request", {})
        _, key = await self._next(("session_confirm",), CONNECT_TIMEOUT)
        self.sender_id = "web-" + str(key).split(".")[1] if str(key).startswith("v1.") else str(key)

    async def say(self, text: str, base_url: str | None = None) -> list[dict[str, Any]]:
        """The bot's messages of one turn, up to the channel's turn_complete event."""
        await self._send("user_uttered", {"message": text})
        replies: list[dict[str, Any]] = []
        while True:
            name, data = await self._next(("bot_uttered", "turn_complete"), MESSAGE_TIMEOUT)
            if name == "turn_complete":
                return refused(replies)
            replies.append(data)


class WebSocketChat(SocketChat):
    """A patient on the website channel over a WebSocket, speaking Engine.IO 4 frames directly.

    ``0{...}`` open, ``40`` connect, ``42[event, data]`` events, ``2``/``3`` ping/pong.
    """

    def __init__(self, base_url: str, origin: str, path: str = "/socket.io") -> None:
        self.url = (
            base_url.replace("http://", "ws://").replace("https://", "wss://") + f"{path}/?EIO=4&transport=websocket"
        )
        super().__init__()
        self.origin = origin
        self.ws: Any = None
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.ws = await websockets.connect(  # type: ignore[attr-defined]
            self.url, origin=self.origin, open_timeout=CONNECT_TIMEOUT, max_size=2**20, ping_interval=None
        )
        opened = await asyncio.wait_for(self.ws.recv(), CONNECT_TIMEOUT)
        if not str(opened).startswith("0"):
            raise RuntimeError(f"not an Engine.IO open packet: {opened!r}")
        await self.ws.send("40")
        self.reader = asyncio.create_task(self._read())
        name, data = await self._next(("connect", "connect_error"), CONNECT_TIMEOUT)
        if name == "connect_error":
            raise RuntimeError(f"socket refused: {data}")
        await self._confirm_session()

    async def _send(self, event: str, data: dict[str, Any]) -> None:
        await self.ws.send("42" + json.dumps([event, data]))

    def _closed(self) -> bool:
        return self.reader is not None and self.reader.done()

    async def _read(self) -> None:
        async for frame in self.ws:
            text = str(frame)
            if text == "2":
                await self.ws.send("3")
            elif text.startswith("40"):
                await self.queue.put(("connect", text[2:]))
            elif text.startswith("44"):
                await self.queue.put(("connect_error", text[2:]))
            elif text.startswith("42"):
                event = json.loads(text[2:])
                await self.queue.put((event[0], event[1] if len(event) > 1 else None))
            elif text.startswith("41") or text == "1":
                await self.queue.put(("disconnect", None))

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


class PollingChat(SocketChat):
    """A patient on the website channel through python-socketio's client (HTTP long-polling)."""

    def __init__(self, base_url: str, origin: str, local_address: str | None = None) -> None:
        import socketio

        connector = aiohttp.TCPConnector(local_addr=(local_address, 0)) if local_address else None
        self.http = aiohttp.ClientSession(connector=connector)
        self.sio = socketio.AsyncClient(reconnection=False, handle_sigint=False, http_session=self.http)
        super().__init__()
        self.base_url, self.origin = base_url, origin
        for name in ("session_confirm", "bot_uttered", "turn_complete", "disconnect"):
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., Any]:
        async def record(data: Any = None, *_: Any) -> None:
            await self.queue.put((name, data))

        return record

    async def open(self) -> None:
        await self.sio.connect(
            self.base_url, headers={"Origin": self.origin}, transports=["polling"], wait_timeout=CONNECT_TIMEOUT
        )
        await self._confirm_session()

    async def _send(self, event: str, data: dict[str, Any]) -> None:
        await self.sio.emit(event, data)

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.sio.disconnect(), 5)
        except Exception:
            await self.sio.eio.disconnect(abort=True)
        finally:
            await self.http.close()


# --- the closed loop ------------------------------------------------------------------------


async def run_load(
    base_urls: Sequence[str],
    transport: str = "rest",
    concurrency: int = 20,
    length: int = 20,
    *,
    duration: float | None = None,
    origin: str | None = None,
    prefix: str | None = None,
    alternate: bool = False,
    local_addresses: Sequence[str] = (),
    allow_empty: bool = False,
    texts: Callable[[int, int], scenario.Conversation] = scenario.conversation,
) -> LoadResult:
    """Run ``concurrency`` conversations of ``length`` messages at once.

    Without ``duration`` each worker plays one conversation (C x N messages in all);
    with it, workers start new conversations until ``duration`` seconds have
    passed (bounded, for the smoke test). Conversation ``i`` talks to
    ``base_urls[i % len]``; with ``alternate`` its messages go round the servers
    in turn instead (REST only: a socket stays on its server). A message with no
    answer is an error, unless ``allow_empty`` (the stock bot has no answer for some
    of these messages): then it is counted in ``empty_replies`` and timed.
    """
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}")
    result = LoadResult(transport, concurrency, length)
    prefix = prefix or f"bench-{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + duration if duration else None
    timeout = aiohttp.ClientTimeout(total=MESSAGE_TIMEOUT)
    http = aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=max(10, concurrency * 2)))
    closing: list[asyncio.Task[None]] = []

    def make_chat(index: int, base_url: str) -> RestChat | WebSocketChat | PollingChat:
        if transport == "rest":
            return RestChat(http, base_url, f"{prefix}-{index}")
        page = origin or base_url
        if transport == "socketio":
            return WebSocketChat(base_url, page)
        local = local_addresses[index % len(local_addresses)] if local_addresses else None
        return PollingChat(base_url, page, local)

    async def play(index: int) -> None:
        base_url = base_urls[index % len(base_urls)]
        script = texts(index, length)
        chat = make_chat(index, base_url)
        try:
            await asyncio.wait_for(chat.open(), CONNECT_TIMEOUT)
        except Exception as error:
            result.error(f"{transport} connect: {type(error).__name__}: {error}")
            closing.append(asyncio.create_task(chat.close()))
            return
        result.conversations += 1
        result.senders.append(chat.sender_id)
        completed = True
        for number, text in enumerate(script.messages):
            target = base_urls[number % len(base_urls)] if alternate else None
            started = time.perf_counter()
            try:
                replies = await asyncio.wait_for(chat.say(text, target), MESSAGE_TIMEOUT)
            except Exception as error:
                result.error(f"{transport} {text!r}: {type(error).__name__}: {error}")
                completed = False
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if not replies:
                if not allow_empty:
                    result.error(f"{transport} {text!r}: no answer")
                    completed = False
                    continue
                result.empty_replies += 1
            result.latencies_ms.append(elapsed)
            result.kinds.append(kind_of(text))
        if completed and script.completes_consent:
            result.consent_senders.append(chat.sender_id)
        closing.append(asyncio.create_task(chat.close()))  # a polling client's goodbye is not a patient's wait

    async def worker(number: int) -> None:
        for round_ in range(MAX_CONVERSATIONS_PER_WORKER):
            await play(number + round_ * concurrency)
            if deadline is None or time.monotonic() >= deadline:
                return

    started = time.perf_counter()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    try:
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    finally:
        result.wall_s = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        result.client_cpu_s = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 60)
        await http.close()
    return result


def run(
    base_urls: Sequence[str], transport: str = "rest", concurrency: int = 20, length: int = 20, **options: Any
) -> LoadResult:
    """``run_load`` from synchronous code."""
    return asyncio.run(run_load(base_urls, transport, concurrency, length, **options))
