"""Servers the tests start: the website channel with a scripted assistant (the stub); stopping or hanging an
action server."""

from __future__ import annotations

import os
import signal
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
import yaml

from bot.settings import PROJECT_ROOT
from devtools import widget_devserver
from devtools.launch import Running, free_port

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
SESSION_SECRET = "test-only-widget-session-secret-0123456789"


def stub_env(port: int) -> dict[str, str]:
    return {
        "WIDGET_ALLOWED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port}",
        "WIDGET_SESSION_SECRET": SESSION_SECRET,
    }


def start_stub(port: int, log_name: str) -> subprocess.Popen[bytes]:
    ARTIFACTS.mkdir(exist_ok=True)
    return widget_devserver.start_in_subprocess(port, env=stub_env(port), log=ARTIFACTS / log_name)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def stop_action_server(running: Running, timeout: float = 20) -> None:
    """Stop the action server ``running`` started and wait until nothing listens on its port.

    Only the signal is sent here; the launcher reaps the process when its ``with`` block ends.
    """
    os.kill(running.actions_pid, signal.SIGTERM)
    address = urlsplit(running.actions_url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the action server at {running.actions_url} still answers after {timeout} s")


@contextmanager
def hung_action_server(running: Running) -> Iterator[None]:
    """The action server ``running`` started, frozen (SIGSTOP) for the block: it still accepts
    connections (the kernel does) but answers nothing, as a hung server does. It goes on after."""
    os.kill(running.actions_pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(running.actions_pid, signal.SIGCONT)


@contextmanager
def serving(server: socketserver.TCPServer) -> Iterator[str]:
    """Run ``server`` (bound to 127.0.0.1) in a thread until the block ends; its ``host:port``."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A local HTTP server answering with ``handler``; its base URL."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as address:
        yield f"http://{address}"


@contextmanager
def asgi_server(app: Any, timeout: float = 20) -> Iterator[str]:
    """An ASGI app (the care-team console) served by uvicorn on a free loopback port; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the app did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def quick_channels(folder: Path) -> Path:
    """The project's channels with per-conversation rate limits that let a whole consent be sent within a minute
    (by SMS and over the website socket); everything else as configured."""
    channels = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8"))
    channels["bot.channels.sms.channel.SmsInput"]["rate_limit_messages"] = 100
    channels["bot.channels.web.channel.SecureSocketIOInput"]["rate_limit_messages"] = 100
    path = folder / "credentials.yml"
    path.write_text(yaml.safe_dump(channels), encoding="utf-8")
    return path
