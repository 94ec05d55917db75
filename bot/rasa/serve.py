"""The one way the project starts its Rasa server: ``python -m bot serve [rasa run arguments]``.

The speed-ups (bot/rasa/speedups/) change Rasa's classes in the process that serves, so
they are installed here, explicitly, and then Rasa's own command line runs as
``rasa run <arguments>`` in this same process. ``rasa run`` serves in-process: Sanic's
default single worker serves in the calling process (several ``SANIC_WORKERS`` are forked
from it, so they inherit the patches too). Nothing else installs them: no import does.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bot import settings
from bot.rasa import speedups


def main(argv: Sequence[str]) -> int:
    """Installs the speed-ups, then runs ``rasa run <argv...>`` here; returns when the server stops.

    Rasa's command line exits (``SystemExit``) on bad arguments, ``--help`` and its own errors,
    as ``rasa run`` does; an unusable speed-up setting returns 2 before anything is served.
    """
    arguments = list(argv)
    if arguments[:1] == ["actions"]:
        print(
            "error: `python -m bot serve` starts the Rasa server; the action server is `rasa run actions`",
            file=sys.stderr,
        )
        return 2
    try:
        speedups.install()
    except settings.SettingsError as error:  # SPEEDUPS_OFF or MAX_CONCURRENT_MESSAGES not usable: do not serve
        print(f"error: {error}", file=sys.stderr)
        return 2
    from rasa.__main__ import main as rasa_main

    saved = sys.argv
    sys.argv = ["rasa", "run", *arguments]  # Rasa's main reads its arguments from sys.argv
    try:
        rasa_main()
    finally:
        sys.argv = saved
    return 0
