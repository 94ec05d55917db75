"""Shared fixtures: Rasa SDK trackers and dispatchers, temporary databases, and the running assistant."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "rhizotomy.tar.gz"
BIN = Path(sys.executable).parent
START_TIMEOUT = 180
DEV_TWILIO_TOKEN = "test-auth-token"


# --- Rasa SDK helpers ----------------------------------------------------------------


@pytest.fixture
def dispatcher() -> Any:
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


@pytest.fixture
def make_tracker() -> Callable[..., Any]:
    """Build a ``Tracker`` from a dict, as the action server does from Rasa's request."""
    from rasa_sdk import Tracker

    def build(text: str = "", intent: str = "", confidence: float = 0.95, slots: dict[str, Any] | None = None,
              events: list[dict[str, Any]] | None = None, entities: list[dict[str, Any]] | None = None,
              active_loop: str | None = None, sender_id: str = "test-patient", channel: str = "rest",
              ranking: list[dict[str, Any]] | None = None) -> Any:
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
            "entities": entities or [],
            "metadata": {},
        }
        history = list(events or [])
        history.append({"event": "user", "text": text, "parse_data": latest, "input_channel": channel})
        return Tracker.from_dict({
            "sender_id": sender_id,
            "slots": slots or {},
            "latest_message": latest,
            "events": history,
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        })

    return build


def texts(dispatcher: Any) -> list[str]:
    """The texts an action sent."""
    return [message.get("text") or "" for message in dispatcher.messages]


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

    from bot import db

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Assistant:
    """The action server and Rasa server started for the e2e tests."""

    base_url: str
    database_url: str
    workdir: Path

    def say(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Send one message over the REST channel and return the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return list(response.json())


def _wait_ready(base_url: str, processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for process, log in zip(processes, logs):
            if process.poll() is not None:
                raise RuntimeError(f"a server exited early; last lines of {log}:\n{log.read_text()[-3000:]}")
        try:
            reply = requests.post(f"{base_url}/webhooks/rest/webhook",
                                  json={"sender": "warm-up", "message": "/show_menu"}, timeout=30)
            if reply.ok and reply.json():
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise RuntimeError(f"the assistant did not answer within {START_TIMEOUT} s; see {logs}")


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """Start the real action server and Rasa server (trained model, project credentials) once per run."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make model` first (make test does)")
    workdir = tmp_path_factory.mktemp("assistant")
    rasa_port, actions_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{rasa_port}"
    database_url = f"sqlite:///{workdir / 'assistant.db'}"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{workdir / "tracker.db"}"\n'
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "WIDGET_ALLOWED_ORIGINS": f"{base_url},http://localhost:{rasa_port}",
        "TWILIO_AUTH_TOKEN": os.environ.get("TWILIO_AUTH_TOKEN", DEV_TWILIO_TOKEN),
        "SMS_ID_SECRET": os.environ.get("SMS_ID_SECRET", "test-sms-id-secret"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    logs = [workdir / "actions.log", workdir / "rasa.log"]
    commands = [
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        [str(BIN / "rasa"), "run", "--model", str(MODEL), "--endpoints", str(endpoints),
         "--credentials", str(PROJECT_ROOT / "credentials.yml"), "--port", str(rasa_port),
         "--interface", "127.0.0.1"],
    ]
    processes = []
    for command, log in zip(commands, logs):
        with log.open("wb") as handle:
            processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=handle,
                                              stderr=subprocess.STDOUT))
    try:
        _wait_ready(base_url, processes, logs)
        yield Assistant(base_url, database_url, workdir)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def rasa_server(assistant: Assistant) -> str:
    """Base URL of the running Rasa server (for channel tests)."""
    return assistant.base_url
