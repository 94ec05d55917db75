"""Fixtures for the website channel's socket tests.

The shared ``chat_server`` fixture (tests/conftest.py) runs a test against the channel with a
scripted assistant, so security and protocol checks do not depend on a trained model, and
against the real assistant in turn.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def jwt_secret() -> str:
    """The key the servers under test check patient tokens with."""
    return os.environ["WIDGET_JWT_SECRET"]
