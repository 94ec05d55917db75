"""Fixtures for the website channel's socket tests.

``chat_server`` runs a test against the channel with a scripted assistant (the shared
``widget_stub`` fixture), so security and protocol checks do not depend on a trained
model, and against the real assistant (the shared ``rasa_server`` fixture) in turn.
"""

from __future__ import annotations

import os

import pytest


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
