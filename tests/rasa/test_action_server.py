"""The action server's entry (bot/rasa/action_server.py): loopback by default, and nothing runs without the token.

Issue 14, finding 2: rasa-sdk's server listened on 0.0.0.0 without authentication, so one POST to
``/webhook`` ran any action. Here rasa_sdk's own app, as ``python -m bot actions`` builds it, is
served on a real socket with a stand-in action that records each run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sanic import Sanic

from bot import production, settings
from bot.rasa import action_server
from bot.settings import PROJECT_ROOT
from devtools import launch
from tests.helpers.channel_app import non_loopback_address
from tests.helpers.channel_app import serving as serving_app

TOKEN = "test-only-action-server-token-0123456789abcdef"
RUNS: list[str] = []


class ActionRecordForTest(Action):
    """Stands for ``action_record_consent``: what matters is whether it ran."""

    def name(self) -> str:
        return "action_record_for_test"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        RUNS.append(tracker.sender_id)
        return []


CALL: dict[str, Any] = {
    "next_action": "action_record_for_test",
    "sender_id": "patient-forged",
    "tracker": {"sender_id": "patient-forged", "slots": {}, "latest_message": {}, "events": []},
    "domain": {},
    "version": "3.6.2",
}


@asynccontextmanager
async def serving() -> AsyncIterator[str]:
    """The app ``python -m bot actions`` builds, with this module's action, on a free loopback port."""
    Sanic.test_mode = True  # rasa_sdk names every app "rasa_sdk"
    app = action_server.create_app(TOKEN, sys.modules[__name__])
    async with serving_app(app) as base:
        yield base


async def answers(headers: dict[str, str] | None) -> list[tuple[str, int]]:
    """Status of POST /webhook, GET /actions and GET /health with ``headers``."""
    async with serving() as base, aiohttp.ClientSession(headers=headers) as client:
        found = []
        async with client.post(f"{base}/webhook", json=CALL) as answer:
            found.append(("webhook", answer.status))
        async with client.get(f"{base}/actions") as answer:
            found.append(("actions", answer.status))
        async with client.get(f"{base}/health") as answer:
            found.append(("health", answer.status))
        return found


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer "},
    ],
    ids=["none", "wrong", "longer", "not bearer", "no scheme", "empty"],
)
def test_a_call_without_the_token_gets_401_and_runs_nothing(headers: dict[str, str] | None) -> None:
    RUNS.clear()
    assert asyncio.run(answers(headers)) == [("webhook", 401), ("actions", 401), ("health", 200)]
    assert RUNS == []


def test_a_call_with_the_token_runs_the_action() -> None:
    RUNS.clear()
    found = asyncio.run(answers({"Authorization": f"Bearer {TOKEN}"}))
    assert found == [("webhook", 200), ("actions", 200), ("health", 200)]
    assert RUNS == ["patient-forged"]


def test_the_token_check() -> None:
    assert action_server.authorized(f"Bearer {TOKEN}", TOKEN)
    assert action_server.authorized(f"bearer  {TOKEN} ", TOKEN)
    assert not action_server.authorized(None, TOKEN)
    assert not action_server.authorized("Bearer ", "")  # no expected token: nobody


def test_the_token_comes_from_the_environment_and_production_refuses_a_stand_in() -> None:
    assert action_server.token({}) == action_server.DEVELOPMENT_TOKEN
    assert action_server.token({action_server.TOKEN_ENV: TOKEN}) == TOKEN
    production_env = {settings.ENVIRONMENT_ENV: settings.PRODUCTION}
    for value in ("", action_server.DEVELOPMENT_TOKEN, "short"):
        with pytest.raises(settings.SettingsError, match=action_server.TOKEN_ENV):
            action_server.token({**production_env, action_server.TOKEN_ENV: value})
    assert action_server.token({**production_env, action_server.TOKEN_ENV: TOKEN}) == TOKEN


@pytest.mark.parametrize(
    ("arguments", "environment", "host"),
    [
        ([], {}, "127.0.0.1"),
        ([], {action_server.INTERFACE_ENV: "10.0.0.21"}, "10.0.0.21"),
        (["--interface", "10.0.0.22"], {action_server.INTERFACE_ENV: "10.0.0.21"}, "10.0.0.22"),
    ],
)
def test_it_listens_on_loopback_unless_told_otherwise(
    arguments: list[str], environment: dict[str, str], host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import logs

    seen: dict[str, Any] = {}
    monkeypatch.delenv(action_server.INTERFACE_ENV, raising=False)
    monkeypatch.delenv(settings.ENVIRONMENT_ENV, raising=False)
    monkeypatch.setenv(action_server.TOKEN_ENV, TOKEN)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(action_server, "serve", lambda args, token, where: seen.update(token=token, host=where))
    try:
        assert action_server.main(["--port", "5999", *arguments]) == 0
    finally:
        logs.uninstall()
    assert seen == {"token": TOKEN, "host": host}


def test_in_production_it_refuses_to_start_without_a_real_token() -> None:
    names = {secret.name for secret in production.SECRETS} | {settings.ENVIRONMENT_ENV}
    env = {key: value for key, value in os.environ.items() if key not in names}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "actions", "--port", "1"],
        cwd=PROJECT_ROOT,
        env={**env, settings.ENVIRONMENT_ENV: settings.PRODUCTION, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert action_server.TOKEN_ENV in done.stderr


@pytest.mark.e2e
def test_python_m_bot_actions_listens_on_loopback_only(tmp_path: Path) -> None:
    """The real command line: reachable on 127.0.0.1, not on this machine's other address (rasa_sdk: 0.0.0.0)."""
    port = launch.free_port()
    env = {k: v for k, v in os.environ.items() if k not in (action_server.INTERFACE_ENV, "SANIC_HOST")}
    with (tmp_path / "actions.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "actions", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env={**env, "PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while not healthy(f"http://127.0.0.1:{port}/health"):
            assert process.poll() is None, (tmp_path / "actions.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the action server did not start"
            time.sleep(0.2)
        other = non_loopback_address()
        if other is not None:
            with pytest.raises(OSError):
                socket.create_connection((other, port), timeout=2).close()
        answer = requests.post(f"http://127.0.0.1:{port}/webhook", json=CALL, timeout=10)
        assert answer.status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=20)


def healthy(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False
