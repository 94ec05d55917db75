"""Shared fixtures: Rasa SDK trackers and dispatchers, temporary databases, and the running assistant."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import launch
from tests.helpers.servers import start_stub, stop
from tests.helpers.twilio import FakeTwilio, fake_twilio_server

# Key for test patient tokens. Set before any server starts, so the real assistant (which inherits
# the environment) accepts the same tokens as the stub.
TEST_JWT_SECRET = "test-only-widget-jwt-secret-0123456789abcdef"


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("WIDGET_JWT_SECRET", TEST_JWT_SECRET)


@pytest.fixture
def dispatcher() -> Any:
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


@pytest.fixture
def make_tracker() -> Callable[..., Any]:
    """Build a ``Tracker`` from a dict, as the action server does from Rasa's request."""
    from rasa_sdk import Tracker

    def build(
        text: str = "",
        intent: str = "",
        confidence: float = 0.95,
        slots: dict[str, Any] | None = None,
        events: list[dict[str, Any]] | None = None,
        entities: list[dict[str, Any]] | None = None,
        active_loop: str | None = None,
        sender_id: str = "test-patient",
        channel: str = "rest",
        ranking: list[dict[str, Any]] | None = None,
    ) -> Any:
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
            "entities": entities or [],
            "metadata": {},
        }
        history = list(events or [])
        history.append({"event": "user", "text": text, "parse_data": latest, "input_channel": channel})
        return Tracker.from_dict(
            {
                "sender_id": sender_id,
                "slots": slots or {},
                "latest_message": latest,
                "events": history,
                "paused": False,
                "followup_action": None,
                "active_loop": {"name": active_loop} if active_loop else {},
                "latest_action_name": "action_listen",
            }
        )

    return build


# --- databases -------------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'assistant.db'}"


def postgres_url() -> str | None:
    return os.environ.get("TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store test runs on SQLite and, where scripts/start-postgres.sh started it, on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'assistant.db'}"
        return
    url = postgres_url()
    if not url:
        pytest.skip("PostgreSQL not available: TEST_POSTGRES_URL is unset (make test starts it)")
    import sqlalchemy as sa

    from bot.records import db

    engine = sa.create_engine(url, future=True)
    with engine.begin() as connection:  # a clean schema per test: drop the project's tables
        db.METADATA.drop_all(connection)
    engine.dispose()
    db._CREATED.clear()
    yield url
    with sa.create_engine(url, future=True).begin() as connection:
        db.METADATA.drop_all(connection)
    db._CREATED.clear()


# --- the running assistant ---------------------------------------------------------------


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[launch.Running]:
    """The real action server and Rasa server (trained model, project credentials), started once per run."""
    if not launch.MODEL.exists():
        pytest.fail(f"{launch.MODEL} is missing: run `make model` first (make test does)")
    workdir = tmp_path_factory.mktemp("assistant")
    with launch.assistant(workdir) as running:
        yield running


@pytest.fixture(scope="session")
def rasa_server(assistant: launch.Running) -> str:
    """Base URL of the running Rasa server (for channel tests)."""
    return assistant.base_url


@pytest.fixture(scope="session")
def widget_stub() -> Iterator[str]:
    """Base URL of the website channel served with a scripted assistant (``devtools.widget_devserver``)."""
    port = launch.free_port()
    process = start_stub(port, "widget-stub.log")  # inherits WIDGET_JWT_SECRET set above
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture(params=["stub", "rasa"])
def chat_server(request: pytest.FixtureRequest) -> str:
    """Base URL of a chat server: the channel with the scripted stub, then the real assistant."""
    if request.param == "stub":
        return str(request.getfixturevalue("widget_stub"))
    try:
        return str(request.getfixturevalue("rasa_server"))
    except pytest.FixtureLookupError:
        pytest.skip("the rasa_server fixture is not available")


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A local fake of Twilio's Messages API (point TWILIO_API_BASE or SmsConfig.api_base at ``.base``)."""
    with fake_twilio_server() as fake:
        yield fake
