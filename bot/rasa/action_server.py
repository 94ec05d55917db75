"""The action server, reachable only by the Rasa servers: ``python -m bot actions [options]``.

rasa-sdk 3.6 has no authentication of its own and listens on every interface (``SANIC_HOST``,
default 0.0.0.0), so anyone who could reach port 5055 could run any action: one POST to
``/webhook`` wrote a ``go_ahead`` consent record for any patient reference (issue 14). This
serves rasa_sdk's own app (``rasa_sdk.endpoint.create_app``: the same actions, ``/webhook``,
``/actions`` and ``/health``) with three differences:

* it listens on 127.0.0.1 unless told otherwise (``--interface``, or ``ACTIONS_INTERFACE``
  for the private address a deployment's Rasa servers reach);
* each call's messages are composed in the conversation's language (its slots);
* every request but ``/health`` must carry ``Authorization: Bearer <ACTION_SERVER_TOKEN>``.
  The Rasa server sends it on every call (``headers`` of ``action_endpoint`` in each endpoints
  file); without it, or with another, the answer is 401 and nothing runs.

The token comes from the environment (``bot.settings.secret``): ``make run`` and
devtools/launch.py generate one for both servers; unset in development, both use
``DEVELOPMENT_TOKEN`` (said loudly in the log); production mode refuses to start without a real
one (bot/production.py).
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
import sys
import types
from collections.abc import Sequence

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import settings
from bot.content import languages

TOKEN_ENV = "ACTION_SERVER_TOKEN"
# Development only: production mode refuses it ("insecure" marks a stand-in, bot/settings.py).
DEVELOPMENT_TOKEN = "insecure-development-action-server-token"
INTERFACE_ENV = "ACTIONS_INTERFACE"
DEFAULT_INTERFACE = "127.0.0.1"
ACTIONS_PACKAGE = "actions"
OPEN_PATHS = frozenset({"/health"})  # says only that the server is up: for load balancers and start-up checks

logger = logging.getLogger(__name__)


def token(env: dict[str, str] | None = None) -> str:
    """The shared secret both servers use (``SettingsError`` in production mode when it is not real)."""
    value = settings.secret(TOKEN_ENV, DEVELOPMENT_TOKEN, env)
    assert value is not None  # a development value is given
    return value


def authorized(header: str | None, expected: str) -> bool:
    """Whether an ``Authorization`` header is ``Bearer <expected>`` (compared in constant time)."""
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not expected:
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def create_app(
    expected_token: str,
    actions: str | types.ModuleType = ACTIONS_PACKAGE,
    cors_origins: str | list[str] | None = None,
    auto_reload: bool = False,
) -> Sanic:
    """rasa_sdk's app for ``actions``, answering 401 to any request but ``/health`` without the token."""
    from rasa_sdk import endpoint

    app = endpoint.create_app(actions, cors_origins=cors_origins, auto_reload=auto_reload)

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or authorized(request.headers.get("Authorization"), expected_token):
            return None
        logger.warning("Refused a call to %s without the action server's token (from %s)", request.path, request.ip)
        return response.json(
            {"error": "unauthorized", "reason": "This server answers only the assistant's own Rasa servers."},
            status=401,
        )

    async def use_conversation_language(request: Request) -> None:
        """Compose this call's messages in the conversation's language (bot/content/languages.py).

        Sanic runs request middleware and the handler in one task, so the language set here is the one
        every ``bot.content`` loader reads while the action runs, and no other call's.
        """
        body = request.json if request.method == "POST" and request.path == "/webhook" else None
        slots = ((body or {}).get("tracker") or {}).get("slots") or {} if isinstance(body, dict) else {}
        languages.set_for_this_task(languages.of_slots(slots if isinstance(slots, dict) else {}))

    app.register_middleware(require_token, "request")
    app.register_middleware(use_conversation_language, "request")
    return app


def parser() -> argparse.ArgumentParser:
    """rasa_sdk's own options (``rasa run actions``; ``--actions`` defaults to this project's) and ``--interface``."""
    from rasa_sdk import endpoint

    options = endpoint.create_argument_parser()
    options.prog = "python -m bot actions"
    options.description = "Starts the action server; only callers with ACTION_SERVER_TOKEN get an answer."
    options.set_defaults(actions=ACTIONS_PACKAGE)
    options.add_argument(
        "--interface",
        default=None,
        help=f"address to listen on (default: {INTERFACE_ENV} or {DEFAULT_INTERFACE}, this machine only)",
    )
    return options


def main(argv: Sequence[str]) -> int:
    """Checks the secrets, then serves until stopped; 2 when a setting or secret is not usable."""
    from bot import logs, production

    args = parser().parse_args(list(argv))
    logs.install()  # bounded excerpts, no phone numbers (bot/logs.py)
    try:
        production.enforce(production.ACTION_SERVER)
        shared = token()
    except settings.SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    host = args.interface or os.environ.get(INTERFACE_ENV, "").strip() or DEFAULT_INTERFACE
    serve(args, shared, host)
    return 0


def serve(args: argparse.Namespace, shared: str, host: str) -> None:
    """What ``rasa_sdk.endpoint.run`` does (logging, plugins, TLS, workers), with this module's app and host."""
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_ssl_context
    from rasa_sdk.plugin import plugin_manager

    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    if shared == DEVELOPMENT_TOKEN:
        logger.warning(
            "%s is not set: using the development token. Set the same long random value for the Rasa server "
            "and the action server before going live (docs/security.md).",
            TOKEN_ENV,
        )
    app = create_app(shared, args.actions, cors_origins=args.cors, auto_reload=args.auto_reload)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info(
        "Action server on %s://%s:%s (callers need %s)", "https" if ssl_context else "http", host, args.port, TOKEN_ENV
    )
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())
