"""Servers the tests start: the website channel with a scripted assistant (the stub)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from devtools import widget_devserver

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
