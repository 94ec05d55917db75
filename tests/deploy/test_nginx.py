"""nginx as deploy/nginx.py renders it, in front of the REST channel (issue 14, finding 1).

By default nginx does not forward REST at all; with ``--rest`` it forwards only requests that
carry a bearer token, and the server still checks the token, since a request through nginx
never counts as the server's own machine.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.channels.rest.channel import SecureRestInput
from bot.channels.rest.rules import RestSettings
from bot.console.app import create_app
from bot.settings import PROJECT_ROOT
from deploy import nginx
from devtools.launch import free_port
from tests.helpers.channel_app import RecordingAssistant, serve_channels
from tests.helpers.servers import asgi_server

START_NGINX = PROJECT_ROOT / "scripts" / "start-nginx.sh"
TOKEN = "nginx-test-token-0123456789abcdef0123"
SELF_SIGNED = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]


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


def test_the_console_gets_a_server_of_its_own_with_tls(tmp_path: Path) -> None:
    conf = nginx.render(
        ["127.0.0.1:5005"], ["127.0.0.1:8080"], tmp_path, console="127.0.0.1:5080", tls=("/c.pem", "/k.pem")
    )
    block = conf[conf.index("# The care-team console") :]
    assert "listen 127.0.0.1:8443 ssl;" in block and "ssl_certificate /c.pem;" in block
    assert "proxy_pass http://127.0.0.1:5080;" in block and "X-Forwarded-Proto $scheme" in block
    patients = conf[: conf.index("# The care-team console")]
    assert "5080" not in patients, "the console is never on the patients' address"
    assert "care-team console" not in nginx.render(["127.0.0.1:5005"], ["127.0.0.1:8080"], tmp_path)


def test_through_nginx_the_console_answers_over_tls_only_after_sign_in(tmp_path: Path) -> None:
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()) or not shutil.which("openssl"):
        pytest.skip("nginx or openssl is not installed (scripts/start-nginx.sh --install)")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [*SELF_SIGNED, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    tls_port = free_port()
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())
    with asgi_server(create_app(f"sqlite:///{tmp_path / 'console.db'}")) as console:
        path = nginx.write(
            tmp_path / "nginx.conf",
            ["127.0.0.1:5005"],
            [f"127.0.0.1:{free_port()}"],
            console=console.removeprefix("http://"),
            console_listen=[f"127.0.0.1:{tls_port}"],
            tls=(str(cert), str(key)),
        )
        with running_nginx(path):
            with opener.open(f"https://127.0.0.1:{tls_port}/health", timeout=10) as response:
                assert response.status == 200
                assert "max-age" in response.headers["Strict-Transport-Security"]
            with pytest.raises(urllib.error.HTTPError) as refused:
                opener.open(f"https://127.0.0.1:{tls_port}/records", timeout=10)
            assert refused.value.code == 303 and refused.value.headers["Location"].startswith("/signin")
            with pytest.raises(urllib.error.URLError):
                urllib.request.urlopen(f"http://127.0.0.1:{tls_port}/health", timeout=10)
