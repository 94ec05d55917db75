"""Servers the tests start: the website channel with a scripted assistant (the stub); stopping or hanging an
action server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from devtools import widget_devserver
from devtools.launch import Running

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
