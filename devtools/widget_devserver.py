"""The website channel with a scripted stand-in assistant, for widget work and tests.

``python -m devtools.widget_devserver --port 5055`` serves the real
``SecureSocketIOInput`` (same credentials.yml section, same security rules,
same widget routes) but answers with a tiny scripted agent instead of a trained
model. Widget changes can then be tried in seconds, and the socket and browser
tests can check security and rendering against replies they control: links,
buttons, HTML-looking text, a failing turn. Never used by ``rasa run``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from rasa.core.channels.channel import UserMessage
from rasa.core.run import configure_app
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered

from bot import settings
from bot.channels.web.channel import SecureSocketIOInput

CHANNEL_KEY = "bot.channels.web.channel.SecureSocketIOInput"
BUTTONS = [
    {"title": "Yes, tell me more", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]

TOPICS = [
    {"title": "What happens?", "payload": "/ask_procedure_steps"},
    {"title": "Recovery", "payload": "/ask_recovery"},
]


def scripted_replies(text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """What the stand-in assistant answers; each reply is ``text`` plus optional ``buttons``."""
    lowered = text.lower()
    if text == "/greet":
        return [{"text": "Hello! I can answer questions about your rhizotomy injection.", "buttons": BUTTONS}]
    if text == "/affirm":
        return [{"text": "You chose yes."}]
    if text == "/deny":
        return [{"text": "You chose no."}]
    if "how long" in lowered:
        return [
            {"text": "The injection itself takes less than an hour.\n\nPlan to be at the clinic for about two hours."},
            {"text": "What else would you like to know?", "buttons": TOPICS},
        ]
    if text.startswith("/ask_"):
        return [{"text": f"Here is what to know about {text[5:].replace('_', ' ')}."}]
    if "buttons" in lowered:
        return [{"text": "Would you like to hear about the risks?", "buttons": BUTTONS}]
    if "link" in lowered:
        return [{"text": "Read [the consent guide](https://example.org/consent) or https://example.org/faq."}]
    if "who am i" in lowered:
        return [{"text": f"patient_id={metadata.get('patient_id', 'none')} channel={metadata.get('channel')}"}]
    if "boom" in lowered:
        raise RuntimeError("scripted failure")
    return [{"text": f"You said: {text}"}]


class ScriptedAgent:
    """Just enough of ``rasa.core.agent.Agent`` for the channel: messages and a tracker store."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())

    async def handle_message(self, message: UserMessage) -> None:
        """Record the turn in the tracker store (for history) and send the replies."""
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, metadata=message.metadata))
        if "slow" in (message.text or "").lower():
            await asyncio.sleep(1.5)  # time for the typing indicator to be seen
        replies = scripted_replies(message.text or "", message.metadata or {})
        for reply in replies:
            output = message.output_channel
            if reply.get("buttons"):
                await output.send_text_with_buttons(message.sender_id, reply["text"], reply["buttons"])
            else:
                await output.send_text_message(message.sender_id, reply["text"])
            tracker.update(BotUttered(reply["text"], data={"buttons": reply.get("buttons")}))
        await self.tracker_store.save(tracker)


def channel_credentials(path: Path | None = None) -> dict[str, Any]:
    """The widget channel's section of credentials.yml, so the dev server matches ``rasa run``."""
    path = path or settings.PROJECT_ROOT / "credentials.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return dict((data or {}).get(CHANNEL_KEY) or {})


def serve(host: str, port: int) -> None:
    """Run the dev server in this process until it is stopped; its own pages may connect."""
    own = f"http://{host}:{port},http://localhost:{port}"
    os.environ["WIDGET_ALLOWED_ORIGINS"] = ",".join(filter(None, [os.environ.get("WIDGET_ALLOWED_ORIGINS"), own]))
    channel = SecureSocketIOInput.from_credentials(channel_credentials())
    app = configure_app([channel], cors=None, enable_api=False, port=port, use_uvloop=False)
    app.ctx.agent = ScriptedAgent()
    app.run(host=host, port=port, access_log=False, workers=1)


def wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Block until the server accepts connections, failing early if it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"widget dev server exited with code {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"widget dev server did not listen on port {port} within {timeout}s")


def start_in_subprocess(
    port: int, env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start the dev server as a child process and wait until it listens (used by tests)."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(settings.PROJECT_ROOT), environment.get("PYTHONPATH")])
    )
    output = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.widget_devserver", "--port", str(port)],
        cwd=settings.PROJECT_ROOT,
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_listening(port, process)
    except Exception:
        process.kill()
        raise
    return process


def main() -> None:
    """Command line: ``python -m devtools.widget_devserver [--host H] [--port P]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    print(f"Widget demo with a scripted assistant: http://{args.host}:{args.port}/widget/demo", flush=True)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
