"""The environment of one node of a several-server deployment, checked and completed.

    eval "$(python -m deploy.settings)"        # what deploy/rasa-node.sh does

Reads the few settings an operator gives and derives what Rasa's endpoints file
(deploy/endpoints.yml) needs, so each fact is set once:

* ``DATABASE_URL`` (required; PostgreSQL): the project's tables *and* Rasa's
  tracker store -> ``TRACKER_DB_HOST/PORT/NAME/USER/PASSWORD``;
* ``REDIS_URL`` (required): Rasa's lock store -> ``REDIS_HOST/PORT/DB/PASSWORD``;
* ``ACTION_ENDPOINT_URL`` (default ``http://127.0.0.1:5055/webhook``);
* ``WIDGET_SESSION_SECRET`` (required): every server must sign and check the
  website's session keys with the same key, or a patient whose socket reconnects
  to another server loses their conversation.

Prints ``export`` lines; exits 1 with one line per problem.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

DEFAULT_ACTION_ENDPOINT = "http://127.0.0.1:5055/webhook"
MIN_SECRET_CHARS = 32


class SettingsError(ValueError):
    """Settings a node cannot start with; the message lists every problem."""


def derive(env: Mapping[str, str]) -> dict[str, str]:
    """The variables deploy/endpoints.yml reads, from ``env``; explicit ``TRACKER_DB_*``/``REDIS_*`` win."""
    problems = []
    out: dict[str, str] = {}
    database_url = env.get("DATABASE_URL", "")
    if not database_url:
        problems.append("DATABASE_URL is not set (postgresql+psycopg2://user:password@host:5432/db)")
    else:
        parts = urlsplit(database_url)
        if not parts.scheme.startswith("postgresql"):
            problems.append(
                f"DATABASE_URL must be a PostgreSQL URL for several servers, not {parts.scheme!r}"
                " (SQLite stays the default for one machine)"
            )
        else:
            out.update(
                {
                    "TRACKER_DB_HOST": parts.hostname or "127.0.0.1",
                    "TRACKER_DB_PORT": str(parts.port or 5432),
                    "TRACKER_DB_NAME": parts.path.lstrip("/") or "postgres",
                    "TRACKER_DB_USER": unquote(parts.username or ""),
                    "TRACKER_DB_PASSWORD": unquote(parts.password or ""),
                }
            )
    redis_url = env.get("REDIS_URL", "")
    if not redis_url:
        problems.append("REDIS_URL is not set (redis://[:password@]host:6379/1)")
    else:
        parts = urlsplit(redis_url)
        if parts.scheme not in ("redis", "rediss"):
            problems.append(f"REDIS_URL must start with redis://, not {parts.scheme!r}")
        else:
            out.update(
                {
                    "REDIS_HOST": parts.hostname or "127.0.0.1",
                    "REDIS_PORT": str(parts.port or 6379),
                    "REDIS_DB": parts.path.lstrip("/") or "1",
                    "REDIS_PASSWORD": unquote(parts.password or ""),
                }
            )
    secret = env.get("WIDGET_SESSION_SECRET", "")
    if len(secret) < MIN_SECRET_CHARS:
        problems.append(
            f"WIDGET_SESSION_SECRET must be set to the same {MIN_SECRET_CHARS}+ character secret on every server"
        )
    out["ACTION_ENDPOINT_URL"] = env.get("ACTION_ENDPOINT_URL") or DEFAULT_ACTION_ENDPOINT
    if problems:
        raise SettingsError("\n".join(problems))
    # Explicit settings win over derived ones.
    for key in list(out):
        if env.get(key):
            out[key] = env[key]
    return out


def main() -> int:
    try:
        values = derive(os.environ)
    except SettingsError as error:
        for line in str(error).splitlines():
            print(f"deploy settings: {line}", file=sys.stderr)
        return 1
    for key, value in values.items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
