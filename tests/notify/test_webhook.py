"""The notice as a signed JSON POST, received by a local HTTP server that checks the signature."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest

from bot.notify import webhook
from bot.notify.config import WebhookRoute
from bot.notify.notice import build
from tests.notify.conftest import HttpReceiver, closed_port

AT = dt.datetime(2026, 11, 29, 17, 0, tzinfo=dt.timezone.utc)
SECRET = "webhook-test-secret-0123456789abcdef"
NOTICE = build(21, "emergency", AT, "https://console.example", None)


def verified(body: bytes, header: str, secret: str = SECRET) -> bool:
    """What a receiver does: recompute the HMAC of the exact body and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def test_the_receiver_gets_json_it_can_trust(receiver: HttpReceiver) -> None:
    where = webhook.send(NOTICE, WebhookRoute(receiver.url + "/oncall?token=x", SECRET))
    assert where == f"{receiver.url.removeprefix('http://')}, 200", "host and status only, never the query"
    [request] = receiver.requests
    assert request.path == "/oncall?token=x" and request.headers["Content-Type"] == "application/json"
    assert verified(request.body, request.headers["X-Signature-256"])
    assert not verified(request.body, request.headers["X-Signature-256"], secret="another-secret")
    assert not verified(request.body.replace(b"21", b"22"), request.headers["X-Signature-256"])
    assert json.loads(request.body) == {
        "kind": "emergency",
        "flag_id": 21,
        "created_at": "2026-11-29T17:00:00+00:00",
        "clinic_open": None,
        "link": "https://console.example/flags/21",
    }


@pytest.mark.parametrize("status", [500, 404, 302])
def test_an_answer_other_than_2xx_is_a_failure(receiver: HttpReceiver, status: int) -> None:
    receiver.statuses = [status]
    with pytest.raises(webhook.WebhookError, match=str(status)):
        webhook.send(NOTICE, WebhookRoute(receiver.url, SECRET))
    assert len(receiver.requests) == 1, "a redirect is not followed"


def test_a_receiver_that_is_down_is_a_failure() -> None:
    with pytest.raises(webhook.WebhookError, match="could not reach"):
        webhook.send(NOTICE, WebhookRoute(f"http://127.0.0.1:{closed_port()}/hook", SECRET))
