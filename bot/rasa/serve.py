"""The one way the project starts its Rasa server: ``python -m bot serve [rasa run arguments]``.

The speed-ups (bot/rasa/speedups/) change Rasa's classes in the process that serves, so
they are installed here, explicitly, and then Rasa's own command line runs as
``rasa run <arguments>`` in this same process. ``rasa run`` serves in-process: Sanic's
default single worker serves in the calling process (several ``SANIC_WORKERS`` are forked
from it, so they inherit the patches too). Nothing else installs them: no import does.

Before them, also explicitly: the log redactor (bot/logs.py: bounded excerpts, no phone numbers),
production mode's secrets check (bot/production.py: with ``ASSISTANT_ENV=production`` nothing
starts while a secret is missing or a stand-in, each one named), and after them the body limit on
the app ``rasa run`` builds (bot/rasa/body_limit.py: 413 before parsing, 4xx as short JSON) and
the answer to a failed or hung action server (bot/rasa/resilience.py: given up after a few
seconds, the apology sent, no form step advanced).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from bot import logs, production, settings
from bot.rasa import action_server, body_limit, resilience, speedups


def main(argv: Sequence[str]) -> int:
    """Installs the speed-ups, then runs ``rasa run <argv...>`` here; returns when the server stops.

    Rasa's command line exits (``SystemExit``) on bad arguments, ``--help`` and its own errors,
    as ``rasa run`` does; an unusable setting or, in production mode, a missing or stand-in
    secret returns 2 before anything is served.
    """
    arguments = list(argv)
    if arguments[:1] == ["actions"]:
        print(
            "error: `python -m bot serve` starts the Rasa server; the action server is `python -m bot actions`",
            file=sys.stderr,
        )
        return 2
    logs.install()  # every log record from here on: bounded excerpts, no phone numbers (bot/logs.py)
    try:
        production.enforce(production.RASA_SERVER, arguments)  # ASSISTANT_ENV=production: every secret real
        shared_token = action_server.token()
        speedups.install()
        body_limit.install()  # every endpoint refuses a body over MAX_REQUEST_BYTES before parsing it
        resilience.install()  # a failed or hung action server: an apology within seconds, no form step lost
    except settings.SettingsError as error:  # a secret or setting not usable: do not serve
        print(f"error: {error}", file=sys.stderr)
        return 2
    from rasa.__main__ import main as rasa_main

    if shared_token == action_server.DEVELOPMENT_TOKEN:
        print(
            f"warning: {action_server.TOKEN_ENV} is not set: the Rasa server calls the action server with the "
            "development token (set the same long random value for both servers before going live)",
            file=sys.stderr,
        )
    saved = sys.argv, os.environ.get(action_server.TOKEN_ENV)
    sys.argv = ["rasa", "run", *arguments]  # Rasa's main reads its arguments from sys.argv
    # The endpoints files send it to the action server (headers: Authorization: Bearer ${ACTION_SERVER_TOKEN});
    # unset in development, it is the stand-in the action server uses too (bot/rasa/action_server.py).
    os.environ[action_server.TOKEN_ENV] = shared_token
    try:
        rasa_main()
    finally:
        sys.argv = saved[0]
        if saved[1] is None:
            os.environ.pop(action_server.TOKEN_ENV, None)
        else:
            os.environ[action_server.TOKEN_ENV] = saved[1]
        resilience.uninstall()  # lives as long as the server (a caller in this process gets Rasa's own code back)
    return 0
