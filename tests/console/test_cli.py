"""``python -m bot staff add``: an account with a one-time password printed once; bad input is an error."""

from __future__ import annotations

import re

import pytest

from bot import cli
from bot.console import staff
from tests.console.conftest import Console


def test_staff_add_prints_a_one_time_password(
    console: Console, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", console.url)
    assert cli.main(["staff", "add", "rn.ortiz", "--role", "nurse"]) == 0
    printed = capsys.readouterr().out
    found = re.search(r"one-time password \(shown once\): (\S+)", printed)
    assert found
    signed = staff.authenticate("rn.ortiz", found.group(1), console.url).staff
    assert signed is not None and signed.must_change_password
    assert cli.main(["staff", "add", "rn.ortiz", "--role", "nurse"]) == 1
    assert "already" in capsys.readouterr().err
    assert cli.main(["staff", "list"]) == 0
    assert "rn.ortiz\tnurse\tone-time password" in capsys.readouterr().out


def test_console_serve_refuses_production_without_its_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSISTANT_ENV", "production")
    monkeypatch.delenv("CONSOLE_SECRET_KEY", raising=False)
    monkeypatch.setenv("CONSOLE_PUBLIC_URL", "https://console.clinic.example")
    assert cli.main(["console", "serve", "--port", "1"]) == 1
    assert "CONSOLE_SECRET_KEY" in capsys.readouterr().err
    monkeypatch.setenv("CONSOLE_SECRET_KEY", "development-only-console-secret-key-never-in-production")
    assert cli.main(["console", "serve", "--port", "1"]) == 1
    assert "CONSOLE_SECRET_KEY" in capsys.readouterr().err
