"""A socket.io client that speaks the website widget's protocol, for tests of the socket channel and of whole
conversations over it."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import socketio
import websockets

from bot.channels.web import protocol


class ChatClient:
    """A socket.io client speaking the widget's protocol, recording what arrives."""

    def __init__(self, base_url: str, origin: str | None = None, token: str | None = None) -> None:
        self.base_url = base_url
        self.origin = base_url if origin is None else origin
        self.token = token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.bot_messages: list[dict[str, Any]] = []
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        for name in ("session_confirm", "session_history", "turn_complete"):
            self.sio.on(name, self._recorder(name))
        self.sio.on("bot_uttered", self._on_bot)
        self.refusal: Any = None
        self.sio.on("connect_error", self._on_refused)

    def _recorder(self, name: str) -> Any:
        async def record(data: Any = None) -> None:
            await self.events.put((name, data))

        return record

    async def _on_refused(self, data: Any = None) -> None:
        self.refusal = data

    async def _on_bot(self, data: Any) -> None:
        self.bot_messages.append(data)
        await self.events.put(("bot_uttered", data))

    async def connect(self, transport: str = "polling") -> None:
        # python-engineio's own WebSocket transport needs a newer aiohttp than
        # Rasa 3.6 pins, so this client polls; WebSocket origin checks use
        # `websockets` below, and the browser tests use WebSocket throughout.
        headers = {"Origin": self.origin} if self.origin else {}
        try:
            await self.sio.connect(
                self.base_url,
                headers=headers,
                auth={"token": self.token} if self.token else None,
                transports=[transport],
                wait_timeout=10,
            )
        except socketio.exceptions.ConnectionError as error:
            await self._abort()
            # Name the server's reason (e.g. origin_not_allowed) in the error.
            raise socketio.exceptions.ConnectionError(f"{error}: {self.refusal}") from error

    async def expect(self, name: str, timeout: float = 60) -> Any:
        """The next event called ``name`` (bot messages before it stay recorded)."""
        deadline = time.monotonic() + timeout
        while True:
            event, data = await asyncio.wait_for(self.events.get(), deadline - time.monotonic())
            if event == name:
                return data

    async def start_session(
        self, key: str | None = None, new: bool = False, lang: Any = None
    ) -> tuple[str, dict[str, Any]]:
        """Bind the socket to a conversation (``lang``: the page's language, as the widget names it)."""
        request = {"session_key": key, "new": new, **({protocol.LANGUAGE_KEY: lang} if lang is not None else {})}
        await self.sio.emit("session_request", request)
        confirmed = await self.expect("session_confirm", 10)
        history = await self.expect("session_history", 30)
        return confirmed, history

    async def say(self, text: Any, **extra: Any) -> list[dict[str, Any]]:
        """Send a message and return the bot messages of the turn it starts."""
        before = len(self.bot_messages)
        await self.sio.emit("user_uttered", {"message": text, **extra})
        await self.expect("turn_complete", 120)
        return self.bot_messages[before:]

    async def close(self) -> None:
        await self._abort()

    async def _abort(self) -> None:
        # A polite polling disconnect waits out the server's long-poll (~25 s);
        # the server notices the dropped socket all the same.
        eio = self.sio.eio
        tasks = [task for task in (eio.read_loop_task, eio.write_loop_task) if task is not None]
        await eio.disconnect(abort=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def texts(messages: list[dict[str, Any]]) -> str:
    return " ".join(str(message.get("text", "")) for message in messages)


async def socket_io_connect_reply(base_url: str, origin: str | None, auth: dict[str, str] | None = None) -> str:
    """Open a raw Engine.IO WebSocket and return the server's answer to a Socket.IO connect.

    ``40{"sid": ...}`` means connected, ``44{"message": reason}`` refused.
    """
    url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(url, origin=origin, open_timeout=10) as ws:  # type: ignore[attr-defined,arg-type]
        opened = await asyncio.wait_for(ws.recv(), 10)
        assert str(opened).startswith("0{")
        await ws.send("40" + json.dumps(auth or {}))
        return str(await asyncio.wait_for(ws.recv(), 10))
