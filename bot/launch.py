"""Start the action server and the Rasa server on free local ports, for tests, transcripts and benchmarks.

One place knows how to launch the assistant away from a developer's own
``make run``: its own ports, its own SQLite files in a work folder, and the
project's credentials, so several runs never share state.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import requests

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "rhizotomy.tar.gz"
BIN = Path(sys.executable).parent
START_TIMEOUT = 180


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A launched assistant: where to talk to it and where it keeps its data."""

    base_url: str
    database_url: str
    workdir: Path
    rasa_pid: int
    actions_pid: int

    def say(self, sender: str, message: str, metadata: Optional[dict[str, Any]] = None,
            timeout: float = 60) -> list[dict[str, Any]]:
        """Send one message over the REST channel and return the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(f"{self.base_url}/webhooks/rest/webhook", json=body, timeout=timeout)
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
                                  json={"sender": "launch-warm-up", "message": "/show_menu"}, timeout=30)
            if reply.ok and reply.json():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the assistant did not answer within {START_TIMEOUT} s; see {logs}")


@contextmanager
def assistant(workdir: Path, model: Path = MODEL, env: Optional[dict[str, str]] = None,
              rasa_args: tuple[str, ...] = ()) -> Iterator[Running]:
    """Run both servers until the ``with`` block ends; logs go to ``workdir``.

    The website widget may connect from the server's own (random) port.
    """
    if not model.exists():
        raise FileNotFoundError(f"{model} is missing: run `make model` first")
    workdir.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{rasa_port}"
    database_url = f"sqlite:///{workdir / 'assistant.db'}"
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        f'tracker_store:\n  type: SQL\n  dialect: "sqlite"\n  db: "{workdir / "tracker.db"}"\n'
    )
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": str(PROJECT_ROOT),
        "WIDGET_ALLOWED_ORIGINS": f"{base_url},http://localhost:{rasa_port}",
        **(env or {}),
    }
    logs = [workdir / "actions.log", workdir / "rasa.log"]
    commands = [
        [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        [str(BIN / "rasa"), "run", "--model", str(model), "--endpoints", str(endpoints),
         "--credentials", str(PROJECT_ROOT / "credentials.yml"), "--port", str(rasa_port),
         "--interface", "127.0.0.1", *rasa_args],
    ]
    processes = []
    for command, log in zip(commands, logs):
        with log.open("wb") as handle:
            processes.append(subprocess.Popen(command, cwd=PROJECT_ROOT, env=full_env, stdout=handle,
                                              stderr=subprocess.STDOUT))
    try:
        _wait_ready(base_url, processes, logs)
        yield Running(base_url, database_url, workdir, processes[1].pid, processes[0].pid)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
