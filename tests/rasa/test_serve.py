"""The server entry (bot/rasa/serve.py): body limit on the app `rasa run` builds, the log redactor, production mode.

Issue 14, finding 5: a 1 MB body stalled every patient and a 10 MB one landed whole in the log,
because Sanic reads up to 100 MB before any handler runs. The app is built here by Rasa's own
``rasa.core.run.configure_app`` with ``body_limit.install()`` in place, exactly as
``python -m bot serve`` builds it, and served on a real socket.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import rasa.core.run  # type: ignore[import-untyped]
from cryptography.fernet import Fernet
from rasa.core.channels.rest import RestInput  # type: ignore[import-untyped]
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs, production, settings
from bot.rasa import body_limit, serve, speedups
from bot.settings import PROJECT_ROOT
from tests.helpers.channel_app import serving

LIMIT = 4096


@pytest.fixture
def rasa_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Sanic, list[int]]]:
    """The app Rasa's ``configure_app`` builds (REST channel, no HTTP API) with the limit installed, and a
    ``POST /echo`` route that records the size of each body it was handed."""
    monkeypatch.setenv("MAX_REQUEST_BYTES", str(LIMIT))
    Sanic.test_mode = True  # several apps named by Rasa in one process
    body_limit.install()
    try:
        app = rasa.core.run.configure_app([RestInput()], enable_api=False)
    finally:
        body_limit.uninstall()
    seen: list[int] = []

    async def echo(request: Request) -> HTTPResponse:
        seen.append(len(request.body))
        return response.json({"bytes": len(request.body)})

    app.add_route(echo, "/echo", methods=["POST"])
    yield app, seen


async def post(url: str, data: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as client, client.post(url, data=data, headers=headers) as answer:
        body = await answer.json(content_type=None) if answer.content_type == "application/json" else None
        return answer.status, body


def test_the_installed_hook_sets_the_limit_on_the_app_rasa_builds(rasa_app: tuple[Sanic, list[int]]) -> None:
    app, _ = rasa_app
    assert app.config.REQUEST_MAX_SIZE == LIMIT
    assert not body_limit.installed() and rasa.core.run.configure_app.__module__ == "rasa.core.run"


@pytest.mark.asyncio
async def test_an_oversized_body_gets_413_and_json_before_any_handler_reads_it(
    rasa_app: tuple[Sanic, list[int]], caplog: pytest.LogCaptureFixture
) -> None:
    app, seen = rasa_app
    caplog.set_level(logging.DEBUG)
    async with serving(app) as base:
        assert await post(f"{base}/echo", b"x" * LIMIT) == (200, {"bytes": LIMIT})
        status, body = await post(f"{base}/echo", b"x" * (LIMIT + 1))
        assert status == 413
        assert body == {"error": body_limit.TOO_LARGE, "reason": body_limit.reason_too_large(LIMIT)}

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: refused once past the limit
            for _ in range(64):
                yield b"y" * 1024

        assert (await post(f"{base}/echo", chunks()))[0] == 413
        # Rasa's own REST webhook: refused before Rasa parses (or logs) the JSON.
        huge = '{"sender": "a", "message": "' + "z" * (1024 * 1024) + '"}'
        status, body = await post(f"{base}/webhooks/rest/webhook", huge, {"Content-Type": "application/json"})
        assert status == 413 and body["error"] == body_limit.TOO_LARGE
    assert seen == [LIMIT]
    assert not [record for record in caplog.records if record.exc_info], "no traceback for a bad request"
    assert all(len(record.getMessage()) < 2000 for record in caplog.records)


@pytest.mark.asyncio
async def test_other_client_errors_are_short_json(rasa_app: tuple[Sanic, list[int]]) -> None:
    app, _ = rasa_app
    async with serving(app) as base, aiohttp.ClientSession() as client:
        async with client.get(f"{base}/no-such-page") as answer:
            assert answer.status == 404 and (await answer.json())["error"] == "not_found"
        async with client.get(f"{base}/echo") as answer:
            assert answer.status == 405 and (await answer.json())["error"] == "method_not_allowed"
            assert "POST" in answer.headers["Allow"]


def test_serve_installs_the_redactor_and_the_limit_before_rasa_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m bot serve``: what Rasa's command line then builds has the limit, and logs are redacted."""
    built: dict[str, Any] = {}

    def fake_rasa_main() -> None:
        Sanic.test_mode = True
        built["app"] = rasa.core.run.configure_app([RestInput()], enable_api=False)
        built["argv"] = list(sys.argv)
        built["logs"] = logs.installed()

    monkeypatch.setattr("rasa.__main__.main", fake_rasa_main)
    monkeypatch.setattr(speedups, "install", lambda: True)  # the speed-ups have their own tests
    monkeypatch.delenv(settings.ENVIRONMENT_ENV, raising=False)
    monkeypatch.setenv("MAX_REQUEST_BYTES", "20000")
    try:
        assert serve.main(["--port", "5999"]) == 0
    finally:
        body_limit.uninstall()
        logs.uninstall()
    assert built["app"].config.REQUEST_MAX_SIZE == 20000
    assert built["argv"] == ["rasa", "run", "--port", "5999"] and built["logs"]


def test_serve_refuses_an_unusable_limit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("rasa.__main__.main", lambda: pytest.fail("Rasa must not start"))
    monkeypatch.setattr(speedups, "install", lambda: True)
    monkeypatch.delenv(settings.ENVIRONMENT_ENV, raising=False)
    monkeypatch.setenv("MAX_REQUEST_BYTES", "64KB")
    try:
        assert serve.main([]) == 2
    finally:
        body_limit.uninstall()
        logs.uninstall()
    assert "MAX_REQUEST_BYTES" in capsys.readouterr().err


# --- production mode: the real command lines ---------------------------------------------


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without any secret production mode looks at, plus ``extra``."""
    names = {secret.name for secret in production.SECRETS} | {settings.ENVIRONMENT_ENV}
    return {**{k: v for k, v in os.environ.items() if k not in names}, **extra}


def _real(name: str) -> str:
    return f"{name.lower()}-{'0123456789abcdef' * 3}"


def test_serve_in_production_refuses_to_start_and_names_each_missing_secret() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--model", "models/none.tar.gz"],
        cwd=PROJECT_ROOT,
        env=_clean_env(ASSISTANT_ENV="production", WIDGET_SESSION_SECRET="CHANGE-ME-to-64-random-characters-openssl"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    for name in ("ACTION_SERVER_TOKEN", "WIDGET_SESSION_SECRET", "TWILIO_AUTH_TOKEN", "SMS_ID_SECRET"):
        assert name in done.stderr
    assert "Starting Rasa server" not in done.stdout + done.stderr


def test_check_exits_non_zero_naming_what_production_would_refuse() -> None:
    every = {secret.name: _real(secret.name) for secret in production.SECRETS if secret.name != "RASA_API_TOKEN"}
    every["PUBLIC_BASE_URL"] = "https://chat.example.org"
    every["CONSOLE_PUBLIC_URL"] = "https://console.example.org"
    every["INVITE_PHONE_KEY"] = Fernet.generate_key().decode()  # Fernet keys, not any 32 characters

    def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "check"],
            cwd=PROJECT_ROOT,
            env=_clean_env(**env),
            capture_output=True,
            text=True,
            timeout=60,
        )

    missing = check({k: v for k, v in every.items() if k != "CONSENT_RECORD_KEY"})
    assert missing.returncode == 1 and "CONSENT_RECORD_KEY is not set" in missing.stdout
    stand_in = check({**every, "TWILIO_AUTH_TOKEN": "dev-insecure-twilio-auth-token"})
    assert stand_in.returncode == 1 and "TWILIO_AUTH_TOKEN is a development value" in stand_in.stdout
    ready = check(every)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert "production check ok" in ready.stdout
