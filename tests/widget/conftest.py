"""Fixtures for the website channel's socket tests.

``widget_stub``: the real channel served with a scripted assistant
(``bot.channels.widget_devserver``), so security and protocol checks do not
depend on a trained model. ``chat_server`` runs a test against the stub and
against the real assistant (the shared ``rasa_server`` fixture) in turn.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.launch import free_port
from tests.browser.widget_page import start_stub, stop

# Key for test patient tokens. Set before any server starts, so the real
# assistant started by ``rasa_server`` (which inherits the environment) accepts
# the same tokens as the stub.
TEST_JWT_SECRET = "test-only-widget-jwt-secret-0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("WIDGET_JWT_SECRET", TEST_JWT_SECRET)


@pytest.fixture(scope="session")
def widget_stub() -> Iterator[str]:
    """Base URL of the channel with the scripted assistant."""
    port = free_port()
    process = start_stub(port, "widget-stub-socket.log")  # inherits WIDGET_JWT_SECRET set above
    yield f"http://127.0.0.1:{port}"
    stop(process)


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
