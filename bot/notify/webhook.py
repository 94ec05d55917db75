"""The on-call notice as a signed JSON POST, for a paging service or the clinic's own systems.

The body is ``{kind, flag_id, created_at, clinic_open, link}``; the header
``X-Signature-256: sha256=<hex>`` is the HMAC-SHA256 of the exact body bytes under
``ONCALL_WEBHOOK_SECRET``, so the receiver can tell a real notice from a forged one (compare it
with ``hmac.compare_digest``). Redirects are not followed: the notice goes where it was configured.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from bot.notify.config import WebhookRoute
from bot.notify.notice import Notice

SIGNATURE_HEADER = "X-Signature-256"
TIMEOUT_SECONDS = 10.0


class WebhookError(RuntimeError):
    """The receiver did not take the notice (no answer, or not a 2xx)."""


def signature(body: bytes, secret: str) -> str:
    """The header value a receiver recomputes: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 3xx is then raised as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirect)


def send(notice: Notice, route: WebhookRoute, timeout: float = TIMEOUT_SECONDS) -> str:
    """POST the notice; the receiver's host and status, for the log (never the URL's path or query)."""
    body = notice.body()
    request = urllib.request.Request(
        route.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "rhizotomy-assistant-oncall/1",
            SIGNATURE_HEADER: signature(body, route.secret),
        },
    )
    host = urlsplit(route.url).netloc
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        raise WebhookError(f"{host} answered {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise WebhookError(f"could not reach {host}: {reason}") from None
    if not 200 <= status < 300:
        raise WebhookError(f"{host} answered {status}")
    return f"{host}, {status}"
