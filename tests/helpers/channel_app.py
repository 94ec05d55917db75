"""Serve input channels (or any Sanic app) on a real server the way ``rasa run`` does, with a stand-in assistant.

Channels are registered by Rasa's own ``register`` under ``/webhooks/``, so a test exercises the
channel's real blueprint over real HTTP without a trained model.

``peer_header``: a test-only request middleware takes the client's socket address from that
header, so a test can send "from" an address that is not the loopback interface on a machine
that has none. It changes ``request.ip`` (the socket's peer), exactly what a real remote client
changes; it is never part of the served app otherwise.
"""

from __future__ import annotations

import copy
import socket
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage, register  # type: ignore[import-untyped]
from sanic import Sanic
from sanic.request import Request


class RecordingAssistant:
    """Stands in for Rasa's agent: records each message and echoes it ("boom" fails the turn)."""

    def __init__(self) -> None:
        self.received: list[UserMessage] = []

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        if message.text == "boom":
            raise RuntimeError("assistant down")
        await message.output_channel.send_text_message(message.sender_id, f"You said: {message.text}")


def non_loopback_address() -> str | None:
    """An IPv4 address of this machine that is not loopback (the one its default route uses), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: a UDP connect only picks the route
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@asynccontextmanager
async def serve_channels(
    channels: Sequence[InputChannel],
    agent: Any,
    *,
    host: str = "127.0.0.1",
    peer_header: str | None = None,
    config: Mapping[str, Any] | None = None,
) -> AsyncIterator[int]:
    """Run ``channels`` on ``host`` (a free port, which is yielded) with ``agent`` as Rasa's agent.

    ``config``: Sanic settings, as an operator sets them with ``SANIC_*`` variables (``PROXIES_COUNT``).
    """
    # Several apps start in one process: test mode keeps Sanic's start-up rewriting of its
    # protocol class repeatable (as sanic-testing does).
    Sanic.test_mode = True
    app = Sanic(f"channel_test_{uuid.uuid4().hex}")
    app.ctx.agent = agent
    app.config.update(dict(config or {}))
    if peer_header:

        @app.on_request
        async def fake_peer(request: Request) -> None:
            peer = request.headers.get(peer_header)
            if peer and request.conn_info is not None:
                info = copy.copy(request.conn_info)
                info.client_ip = peer
                request.conn_info = info

    register(list(channels), app, route="/webhooks/")
    async with serving(app, host) as base:
        yield int(base.rsplit(":", 1)[1])


@asynccontextmanager
async def serving(app: Sanic, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """``app`` on a real server on a free port of ``host``; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        await server.before_stop()
        closing = server.close()
        if closing is not None:
            await closing
        await server.after_stop()
        sock.close()
