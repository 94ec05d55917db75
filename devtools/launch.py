"""Start the action server and the Rasa server on free local ports, for tests, transcripts and benchmarks.

One place knows how to launch the assistant away from a developer's own
``make run``: its own ports, its own SQLite files in a work folder, and the
project's credentials, so several runs never share state.

The defaults are what tests and transcripts need (one Rasa server, one action
server, SQLite). The benchmark and the scale-out test also use it for other
set-ups: another endpoints file (PostgreSQL tracker store, Redis lock store,
with ``${VAR}`` settings from ``env``), several Rasa servers on one shared
store, chosen ports, another bot (the stock ``rasa init`` baseline) without an
action server.

The project's Rasa server starts as ``python -m bot serve`` (bot/rasa/serve.py: Rasa's own
``rasa run`` with the project's speed-ups installed first); ``stock_rasa=True`` starts plain
``rasa run`` instead, for a bot that is Rasa as it comes.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "rhizotomy.tar.gz"
BIN = Path(sys.executable).parent
START_TIMEOUT = 180
READY_POLL_SECONDS = 0.1
# The endpoints file a custom ``endpoints`` may use for the action server's URL.
ACTION_ENDPOINT_ENV = "ACTION_ENDPOINT_URL"
# The secret both servers share (a new random one per launch unless ``env`` or this process sets it).
ACTION_TOKEN_ENV = "ACTION_SERVER_TOKEN"


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
    # Every Rasa server when several were started (the first is ``base_url``).
    base_urls: tuple[str, ...] = ()
    rasa_pids: tuple[int, ...] = ()
    actions_url: str = ""
    # Seconds from starting the Rasa server(s) to the first answer over REST.
    cold_start_s: float = 0.0
    logs: tuple[Path, ...] = field(default_factory=tuple)
    # REST_API_TOKEN the servers were given, if any: REST then answers its bearers only.
    rest_token: str = ""
    # ACTION_SERVER_TOKEN both servers were given: the action server answers its bearers only.
    action_token: str = ""

    def say(
        self,
        sender: str,
        message: str,
        metadata: dict[str, Any] | None = None,
        timeout: float = 60,
        base_url: str | None = None,
    ) -> list[dict[str, Any]]:
        """Send one message over the REST channel and return the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(
            f"{base_url or self.base_url}/webhooks/rest/webhook",
            json=body,
            headers=rest_headers(self.rest_token),
            timeout=timeout,
        )
        response.raise_for_status()
        return list(response.json())


def rest_headers(token: str) -> dict[str, str]:
    """The REST channel's bearer header when the servers have ``REST_API_TOKEN`` (bot/channels/rest/)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def _check_alive(processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    """Raise with the end of its log if a server has exited while we wait for it."""
    for process, log in zip(processes, logs, strict=False):
        if process.poll() is not None:
            raise RuntimeError(f"a server exited early; last lines of {log}:\n{log.read_text()[-3000:]}")


def _wait_ready(
    base_url: str,
    processes: list[subprocess.Popen[bytes]],
    logs: list[Path],
    message: str = "/show_menu",
    rest_token: str = "",
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        _check_alive(processes, logs)
        try:
            reply = requests.post(
                f"{base_url}/webhooks/rest/webhook",
                json={"sender": "launch-warm-up", "message": message},
                headers=rest_headers(rest_token),
                timeout=30,
            )
            if reply.ok and reply.json():
                return
        except requests.RequestException:
            pass
        time.sleep(READY_POLL_SECONDS)
    raise RuntimeError(f"the assistant did not answer within {START_TIMEOUT} s; see {logs}")


def _wait_healthy(url: str, processes: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    """Until ``url`` (a server's ``/health``) answers 200."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        _check_alive(processes, logs)
        try:
            if requests.get(url, timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(READY_POLL_SECONDS)
    raise RuntimeError(f"{url} did not answer within {START_TIMEOUT} s; see {logs}")


def default_endpoints(workdir: Path, actions_url: str | None, nlg: bool = True) -> Path:
    """One machine: the action server (if any), the project's NLG and an SQLite tracker store in ``workdir``.

    ``nlg=False`` leaves Rasa's own response generator (a bot that is not this project's).
    """
    endpoints = workdir / "endpoints.yml"
    # The action server answers only callers with the token (bot/rasa/action_server.py); ``assistant``
    # gives both servers ACTION_SERVER_TOKEN.
    headers = f"  headers:\n    Authorization: Bearer ${{{ACTION_TOKEN_ENV}}}\n"
    text = f'action_endpoint:\n  url: "{actions_url}"\n{headers}' if actions_url else ""
    project = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    chosen = {key: project[key] for key in ("nlg", "tracker_store") if nlg or key != "nlg"}
    chosen["tracker_store"]["db"] = str(workdir / "tracker.db")
    text += yaml.safe_dump(chosen, sort_keys=False)
    endpoints.write_text(text)
    return endpoints


@contextmanager
def assistant(
    workdir: Path,
    model: Path = MODEL,
    env: dict[str, str] | None = None,
    rasa_args: tuple[str, ...] = (),
    *,
    endpoints: Path | None = None,
    servers: int = 1,
    rasa_ports: Sequence[int] | None = None,
    actions_port: int | None = None,
    actions: bool = True,
    credentials: Path | None = PROJECT_ROOT / "credentials.yml",
    cwd: Path = PROJECT_ROOT,
    database_url: str | None = None,
    ready_message: str = "/show_menu",
    stock_rasa: bool = False,
) -> Iterator[Running]:
    """Run the action server and the Rasa server(s) until the ``with`` block ends; logs go to ``workdir``.

    The website widget may connect from the server's own (random) port.

    ``endpoints`` replaces the default endpoints file (action server plus an
    SQLite tracker store in ``workdir``); it may read the action server's URL
    from ``${ACTION_ENDPOINT_URL}`` and anything else from ``env``. ``servers``
    Rasa servers share it (use a shared tracker store and a lock store then).
    ``actions=False`` starts no action server (a bot without custom actions).
    ``stock_rasa=True`` serves with plain ``rasa run``, without the project's speed-ups
    (the stock ``rasa init`` baseline); otherwise ``python -m bot serve`` serves.
    """
    if not model.exists():
        raise FileNotFoundError(f"{model} is missing: run `make model` first")
    if servers < 1:
        raise ValueError("servers must be at least 1")
    workdir.mkdir(parents=True, exist_ok=True)
    ports = list(rasa_ports) if rasa_ports else [free_port() for _ in range(servers)]
    if len(ports) != servers:
        raise ValueError(f"{servers} servers need {servers} ports, got {ports}")
    actions_port = actions_port or free_port()
    actions_url = f"http://127.0.0.1:{actions_port}/webhook" if actions else ""
    base_urls = [f"http://127.0.0.1:{port}" for port in ports]
    base_url = base_urls[0]
    database_url = database_url or f"sqlite:///{workdir / 'assistant.db'}"
    endpoints = endpoints or default_endpoints(workdir, actions_url, nlg=not stock_rasa)
    origins = ",".join(f"{url},http://localhost:{port}" for url, port in zip(base_urls, ports, strict=True))
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(PROJECT_ROOT),
        "WIDGET_ALLOWED_ORIGINS": origins,
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or base_url,  # links sent to patients open here
        ACTION_ENDPOINT_ENV: actions_url,
        ACTION_TOKEN_ENV: os.environ.get(ACTION_TOKEN_ENV) or secrets.token_hex(32),
        **(env or {}),
    }
    action_token = full_env[ACTION_TOKEN_ENV]
    logs: list[Path] = []
    commands: list[list[str]] = []
    if actions:
        logs.append(workdir / "actions.log")
        commands.append(
            [sys.executable, "-m", "bot", "actions", "--interface", "127.0.0.1", "--port", str(actions_port)]
        )
    for index, port in enumerate(ports):
        logs.append(workdir / ("rasa.log" if index == 0 else f"rasa-{index + 1}.log"))
        serve = [str(BIN / "rasa"), "run"] if stock_rasa else [sys.executable, "-m", "bot", "serve"]
        commands.append(
            [
                *serve,
                "--model",
                str(model),
                "--endpoints",
                str(endpoints),
                *(["--credentials", str(credentials)] if credentials else []),
                "--port",
                str(port),
                "--interface",
                "127.0.0.1",
                *rasa_args,
            ]
        )
    processes: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    try:
        for command, log in zip(commands, logs, strict=True):
            with log.open("wb") as handle:
                processes.append(
                    subprocess.Popen(command, cwd=cwd, env=full_env, stdout=handle, stderr=subprocess.STDOUT)
                )
        rest_token = (full_env.get("REST_API_TOKEN") or "").strip()
        if actions:  # first: while it starts, the Rasa server would answer the warm-up with the apology
            _wait_healthy(actions_url.removesuffix("/webhook") + "/health", processes, logs)
        for url in base_urls:
            _wait_ready(url, processes, logs, ready_message, rest_token)
        cold_start = time.monotonic() - started
        rasa_processes = processes[1:] if actions else processes
        yield Running(
            base_url,
            database_url,
            workdir,
            rasa_processes[0].pid,
            processes[0].pid if actions else 0,
            base_urls=tuple(base_urls),
            rasa_pids=tuple(p.pid for p in rasa_processes),
            actions_url=actions_url,
            cold_start_s=cold_start,
            logs=tuple(logs),
            rest_token=rest_token,
            action_token=action_token,
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
