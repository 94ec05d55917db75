"""Every endpoint of the Rasa server refuses an oversized body before anything parses it.

Sanic reads a request's whole body before the handler runs, up to ``REQUEST_MAX_SIZE``: 100 MB
unless told otherwise. A 1 MB message stalled every patient for about 10 s, a 10 MB one was
written whole into the log. ``configure`` sets the limit to ``MAX_REQUEST_BYTES`` (64 KB by
default, bot/settings.py): Sanic then refuses a larger ``Content-Length`` before reading a byte
of the body, and a chunked body as soon as it passes the limit, with 413 and a short JSON reason.
It applies to every route of the app: the REST, SMS and widget channels, socket.io's polling
requests and Rasa's HTTP API (``--enable-api``; its training and model uploads need a larger
``MAX_REQUEST_BYTES``). Websocket frames are not request bodies (socket.io's own limit, in
bot/channels/web/channel.py).

The client errors Sanic raises itself (413; 400 for a malformed request line, header or chunked
body, or a body that is not the JSON it claims; 404; 405) are answered as JSON
``{"error": ..., "reason": ...}`` and never logged with a traceback; server errors keep Sanic's
own handling.

``rasa run`` builds its app in ``rasa.core.run.configure_app`` (with or without the HTTP API) and
serves it at once, offering no hook of its own; ``install()`` wraps that function so the app it
returns is configured before it serves. ``python -m bot serve`` (bot/rasa/serve.py) calls it;
importing this module changes nothing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.helpers import STATUS_CODES
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings

_original: Callable[..., Sanic] | None = None


def reason_too_large(limit: int) -> str:
    return f"The request body is larger than {limit:,} bytes, the most this server reads."


# The REST channel's own code for its 413 (bot/channels/rest/rules.py), so a client sees one.
TOO_LARGE = "too_large"


def _error_code(status: int) -> str:
    """``404`` -> ``not_found``: the status phrase as a short code (413: ``too_large``)."""
    if status == 413:
        return TOO_LARGE
    phrase = STATUS_CODES.get(status, b"error").decode()
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")


def client_error(request: Request, exception: Exception) -> HTTPResponse | None:
    """A client error as short JSON (no traceback is logged); ``None`` leaves a server error to Sanic."""
    status = getattr(exception, "status_code", 500)
    if not isinstance(exception, SanicException) or not isinstance(status, int) or status >= 500:
        return None
    if isinstance(exception, PayloadTooLarge):
        limit = request.app.config.REQUEST_MAX_SIZE if request is not None else settings.max_request_bytes()
        reason = reason_too_large(int(limit))
    else:
        reason = str(exception) or STATUS_CODES.get(status, b"").decode()
    headers = getattr(exception, "headers", None) or {}  # e.g. Allow on 405
    return response.json({"error": _error_code(status), "reason": reason}, status=status, headers=headers)


def configure(app: Sanic, max_bytes: int | None = None) -> Sanic:
    """Sets ``app``'s body limit (default ``settings.max_request_bytes()``) and answers client errors as JSON."""
    app.config.REQUEST_MAX_SIZE = settings.max_request_bytes() if max_bytes is None else max_bytes
    app.error_handler.add(SanicException, client_error)
    return app


def install(max_bytes: int | None = None) -> None:
    """Every app ``rasa.core.run.configure_app`` builds from now on goes through ``configure`` (idempotent).

    Reads ``MAX_REQUEST_BYTES`` now, so a bad value stops the server before it starts
    (``settings.SettingsError``).
    """
    global _original
    limit = settings.max_request_bytes() if max_bytes is None else max_bytes
    import rasa.core.run

    if _original is not None:
        return
    original = rasa.core.run.configure_app

    @functools.wraps(original)
    def configure_app(*args: Any, **kwargs: Any) -> Sanic:
        return configure(original(*args, **kwargs), limit)

    _original = original
    rasa.core.run.configure_app = configure_app


def installed() -> bool:
    return _original is not None


def uninstall() -> None:
    """Puts Rasa's own ``configure_app`` back (for tests)."""
    global _original
    if _original is not None:
        import rasa.core.run

        rasa.core.run.configure_app = _original
        _original = None
