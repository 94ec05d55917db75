"""nginx as deploy/nginx.py renders it, in front of the REST channel (issue 14, finding 1).

By default nginx does not forward REST at all; with ``--rest`` it forwards only requests that
carry a bearer token, and the server still checks the token, since a request through nginx
never counts as the server's own machine.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.channels.rest.channel import SecureRestInput
from bot.channels.rest.rules import RestSettings
from bot.settings import PROJECT_ROOT
from deploy import nginx
from devtools.launch import free_port
from tests.helpers.channel_app import RecordingAssistant, serve_channels

START_NGINX = PROJECT_ROOT / "scripts" / "start-nginx.sh"
TOKEN = "nginx-test-token-0123456789abcdef0123"


def test_rest_is_not_forwarded_unless_asked_and_then_only_with_a_bearer_header(tmp_path: Path) -> None:
    closed = nginx.render(["127.0.0.1:5005"], ["127.0.0.1:8080"], tmp_path)
    rest = closed[closed.index("location /webhooks/rest/") :]
    assert rest.split("}")[0].split("{")[1].split() == ["return", "404;"]
    forwarded = nginx.render(["127.0.0.1:5005"], ["127.0.0.1:8080"], tmp_path, rest=True)
    rest = forwarded[forwarded.index("location /webhooks/rest/") :]
    check, forward = rest.split("proxy_pass")[0], rest.split("proxy_pass")[1].split("\n        }")[0]
    assert "$http_authorization" in check and "return 401;" in check
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in forward, "the server must see a proxied caller"


@contextmanager
def running_nginx(conf: Path) -> Iterator[None]:
    subprocess.run([str(START_NGINX), str(conf)], check=True, stdout=subprocess.DEVNULL, timeout=60)
    try:
        yield
    finally:
        subprocess.run([str(START_NGINX), str(conf), "stop"], check=False, timeout=60)


async def post(client: aiohttp.ClientSession, url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with client.post(url, json={"sender": "patient-1", "message": "hi"}, headers=headers) as response:
        return response.status


@pytest.mark.parametrize("forward", [False, True], ids=["default", "--rest"])
@pytest.mark.asyncio
async def test_through_nginx_rest_needs_the_token(tmp_path: Path, forward: bool) -> None:
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx is not installed (scripts/start-nginx.sh --install)")
    for token in (None, TOKEN):
        assistant = RecordingAssistant()
        channel = SecureRestInput(RestSettings(token=token))
        async with serve_channels([channel], assistant) as port, aiohttp.ClientSession() as client:
            listen = f"127.0.0.1:{free_port()}"
            conf = nginx.write(tmp_path / f"nginx-{bool(token)}.conf", [f"127.0.0.1:{port}"], [listen], rest=forward)
            url = f"http://{listen}/webhooks/rest/webhook"
            with running_nginx(conf):
                statuses = [await post(client, url), await post(client, url, "wrong"), await post(client, url, TOKEN)]
            if not forward:
                assert statuses == [404, 404, 404], "nginx does not forward REST by default"
            elif token is None:
                assert statuses == [401, 403, 403], "nginx wants a bearer header; the server refuses a proxied caller"
            else:
                assert statuses == [401, 401, 200], "forwarded REST answers the token's holders only"
            assert len(assistant.received) == statuses.count(200)
