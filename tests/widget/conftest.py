"""Fixtures for the website channel's socket tests.

``widget_stub``: the real channel served with a scripted assistant
(``bot.channels.widget_devserver``), so security and protocol checks do not
depend on a trained model. ``chat_server`` runs a test against the stub and
against the real assistant (the shared ``rasa_server`` fixture) in turn.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels import widget_devserver
from bot.launch import free_port

# Key for test patient tokens. Set before any server starts, so the real
# assistant started by ``rasa_server`` (which inherits the environment) accepts
# the same tokens as the stub.
TEST_JWT_SECRET = "test-only-widget-jwt-secret-0123456789abcdef"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("WIDGET_JWT_SECRET", TEST_JWT_SECRET)


def start_stub(log_name: str) -> tuple[str, subprocess.Popen[bytes]]:
    """Start the scripted server on a free port; its own origin is allowed."""
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    process = widget_devserver.start_in_subprocess(
        port,
        env={
            "WIDGET_ALLOWED_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port}",
            "WIDGET_JWT_SECRET": os.environ["WIDGET_JWT_SECRET"],
            "WIDGET_SESSION_SECRET": "test-only-widget-session-secret-0123456789",
        },
        log=ARTIFACTS / log_name,
    )
    return f"http://127.0.0.1:{port}", process


@pytest.fixture(scope="session")
def widget_stub() -> Iterator[str]:
    """Base URL of the channel with the scripted assistant."""
    url, process = start_stub("widget-stub-socket.log")
    yield url
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture(params=["stub", "rasa"])
def chat_server(request: pytest.FixtureRequest) -> str:
    """Base URL of a chat server: the scripted stub, then the real assistant."""
    if request.param == "stub":
        return str(request.getfixturevalue("widget_stub"))
    try:
        return str(request.getfixturevalue("rasa_server"))
    except pytest.FixtureLookupError:
        pytest.skip("the rasa_server fixture is not available")


@pytest.fixture
def jwt_secret() -> str:
    """The key the servers under test check patient tokens with."""
    return os.environ["WIDGET_JWT_SECRET"]
