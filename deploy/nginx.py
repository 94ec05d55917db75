"""Render the nginx configuration that spreads patients over several Rasa servers.

    python -m deploy.nginx --upstream 10.0.0.11:5005 --upstream 10.0.0.12:5005 \\
        --listen 127.0.0.1:8080 --prefix /var/lib/rhizotomy-nginx > /etc/rhizotomy/nginx.conf
    scripts/start-nginx.sh /etc/rhizotomy/nginx.conf

* ``/webhooks/...`` (SMS): any server will do, since the conversation is
  in PostgreSQL and Redis serialises its messages: ``least_conn`` with
  keep-alive connections to the servers.
* ``/webhooks/rest/``: not forwarded (404). REST names any conversation, so it is for
  development and integrations only (bot/channels/rest/). ``--rest`` forwards it for an
  integration; every server must then have ``REST_API_TOKEN`` (without it a request through
  nginx is refused: it did not come from the server's own machine), and nginx itself turns
  away a request without a bearer header (401).
* ``/socket.io/`` (the website widget): sticky. Socket.IO's HTTP long-polling
  sends each request of one session separately, and only the server that
  issued the Engine.IO session id knows it; WebSocket upgrades must reach the
  same server too. nginx picks the server by a consistent hash of the client's
  address (``--sticky-key``, default ``$remote_addr``): a cookie would not do,
  because the widget runs on the clinic's own website and its requests to the
  assistant are cross-site (no credentials). Behind another proxy, set the real
  client address first (``set_real_ip_from`` / ``real_ip_header``) or hash on
  ``$http_x_forwarded_for``.
* ``/widget/``: the widget bundle and demo page from any server.
* ``/i/<token>``: an invited patient's link to the chat (any server; not in the access log).
* Everything else (Rasa's HTTP API: /conversations, /model...) is not proxied.
* ``--console HOST:PORT`` adds the care-team console (``python -m bot console serve``) as a server
  of its own on ``--console-listen`` (default 127.0.0.1:8443), with TLS when ``--tls-cert`` and
  ``--tls-key`` are given: staff passwords and patient data never cross the network in clear text,
  and the console is never reachable on the patients' address.

The access log records which server answered each request (``upstream=``),
which the scale-out test reads to check stickiness and spread.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TEMPLATE = """\
# Rendered by `python -m deploy.nginx` (deploy/nginx.py); edit the generator, not this file.
# Rasa servers: {servers}
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
{user_line}
events {{
    worker_connections 4096;
}}

http {{
    log_format rhizotomy '$remote_addr [$time_local] "$request" $status upstream=$upstream_addr '
                         'rt=$request_time urt=$upstream_response_time';
    access_log {prefix}/access.log rhizotomy;

    # Bodies stay in memory (the chat's messages are small); nothing is written to temp files.
    client_max_body_size 64k;
    client_body_buffer_size 64k;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    proxy_max_temp_file_size 0;
    server_tokens off;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}

    # REST and SMS: any server (shared tracker store + lock store).
    upstream rasa_any {{
        least_conn;
{any_servers}
        keepalive 64;
    }}

    # Website socket: the same server for every request of one client.
    upstream rasa_sticky {{
        hash {sticky_key} consistent;
{sticky_servers}
    }}

    server {{
{listen_lines}
        proxy_http_version 1.1;
        # Host and X-Forwarded-* are set in each location: one with its own proxy_set_header drops the server's.
        proxy_next_upstream error timeout;

{rest_location}
        location /webhooks/ {{
            proxy_pass http://rasa_any;
{forward_headers}
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
        }}

        location /socket.io/ {{
            proxy_pass http://rasa_sticky;
{forward_headers}
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_buffering off;
            proxy_read_timeout 120s;
        }}

        location /widget/ {{
            proxy_pass http://rasa_any;
{forward_headers}
            proxy_set_header Connection "";
        }}

        # Invitation links (bot/channels/web/invite_page.py): the token is in the path, so not in the log.
        location /i/ {{
            proxy_pass http://rasa_any;
{forward_headers}
            proxy_set_header Connection "";
            access_log off;
        }}

        location = /nginx-health {{
            access_log off;
            return 200 "ok\\n";
        }}

        # Rasa's HTTP API (/conversations, /model, ...) is never exposed through here.
        location / {{
            return 404;
        }}
    }}
{console_server}}}
"""

CONSOLE_SERVER = """
    # The care-team console: its own address, never the patients'. It checks every request's session itself.
    server {{
{listen_lines}
{tls_lines}
        add_header Strict-Transport-Security "max-age=31536000" always;
        location / {{
            proxy_pass http://{console};
            proxy_http_version 1.1;
{forward_headers}
            proxy_read_timeout 60s;
        }}
    }}
"""


# Host and X-Forwarded-* for every location that proxies: a location with a proxy_set_header of its
# own drops the server's (the SMS signature URL, origin checks and per-address limits need them).
FORWARD_HEADERS = """\
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;"""

REST_CLOSED = """\
        # REST names any conversation: development and integrations only, never through here
        # (python -m deploy.nginx --rest forwards it; every server then needs REST_API_TOKEN).
        location /webhooks/rest/ {
            return 404;
        }
"""

REST_WITH_TOKEN = """\
        # REST for an integration: each server checks the REST_API_TOKEN bearer token (a request
        # through nginx never counts as the server's own machine); none at all stops here.
        location /webhooks/rest/ {
            if ($http_authorization !~* "^Bearer [^ ]") {
                return 401;
            }
            proxy_pass http://rasa_any;
            # Without X-Forwarded-For the server would see nginx's address, which may be its own machine.
{forward_headers}
            proxy_set_header Connection "";
            proxy_read_timeout 60s;
        }
"""


def render(
    upstreams: list[str],
    listen: list[str],
    prefix: Path,
    sticky_key: str = "$remote_addr",
    workers: str = "auto",
    user: str | None = None,
    rest: bool = False,
    console: str | None = None,
    console_listen: list[str] | None = None,
    tls: tuple[str, str] | None = None,
) -> str:
    """The nginx.conf text; ``prefix`` holds its pid file, logs and temp folders.

    ``rest``: forward ``/webhooks/rest/`` (servers need ``REST_API_TOKEN``); by default it is 404.
    ``console``: the care-team console's host:port, served on ``console_listen`` (TLS with ``tls``,
    a certificate and key file).
    """
    if not upstreams:
        raise ValueError("at least one --upstream host:port is needed")
    server_lines = "\n".join(f"        server {u} max_fails=3 fail_timeout=10s;" for u in upstreams)
    return TEMPLATE.format(
        servers=", ".join(upstreams),
        workers=workers,
        prefix=prefix,
        user_line=f"user {user};" if user else "",
        any_servers=server_lines,
        sticky_servers=server_lines,
        sticky_key=sticky_key,
        listen_lines="\n".join(f"        listen {address};" for address in listen),
        rest_location=REST_WITH_TOKEN.replace("{forward_headers}", FORWARD_HEADERS) if rest else REST_CLOSED,
        forward_headers=FORWARD_HEADERS,
        console_server=_console_server(console, console_listen or ["127.0.0.1:8443"], tls) if console else "",
    )


def _console_server(console: str, listen: list[str], tls: tuple[str, str] | None) -> str:
    ssl = " ssl" if tls else ""
    tls_lines = (
        f"        ssl_certificate {tls[0]};\n        ssl_certificate_key {tls[1]};\n"
        "        ssl_protocols TLSv1.2 TLSv1.3;"
        if tls
        else "        # No --tls-cert/--tls-key: plain HTTP, for a TLS proxy in front or this machine only."
    )
    return CONSOLE_SERVER.format(
        listen_lines="\n".join(f"        listen {address}{ssl};" for address in listen),
        tls_lines=tls_lines,
        console=console,
        forward_headers=FORWARD_HEADERS,
    )


def write(
    path: Path,
    upstreams: list[str],
    listen: list[str],
    sticky_key: str = "$remote_addr",
    workers: str = "auto",
    user: str | None = None,
    rest: bool = False,
    console: str | None = None,
    console_listen: list[str] | None = None,
    tls: tuple[str, str] | None = None,
) -> Path:
    """Write the configuration to ``path``, with its prefix folder (logs, temp) next to it."""
    prefix = path.parent.resolve()
    for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    text = render(upstreams, listen, prefix, sticky_key, workers, user, rest, console, console_listen, tls)
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.nginx", description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", action="append", required=True, help="a Rasa server, host:port (repeat)")
    parser.add_argument("--listen", action="append", default=None, help="default 127.0.0.1:8080 (repeat)")
    parser.add_argument(
        "--prefix",
        type=Path,
        default=Path("/var/lib/rhizotomy-nginx"),
        help="folder for the pid file, logs and temp files",
    )
    parser.add_argument("--sticky-key", default="$remote_addr", help="what /socket.io/ is hashed on")
    parser.add_argument("--workers", default="auto")
    parser.add_argument("--user", default=None, help="worker user when started as root, e.g. www-data")
    parser.add_argument(
        "--rest",
        action="store_true",
        help="forward /webhooks/rest/ (every server needs REST_API_TOKEN; default: 404)",
    )
    parser.add_argument("--console", help="the care-team console, host:port (a server block of its own)")
    parser.add_argument("--console-listen", action="append", default=None, help="default 127.0.0.1:8443 (repeat)")
    parser.add_argument("--tls-cert", help="certificate file for the console's server block")
    parser.add_argument("--tls-key", help="its key file")
    parser.add_argument("--out", type=Path, help="write here (and create the prefix folders) instead of stdout")
    args = parser.parse_args(argv)
    listen = args.listen or ["127.0.0.1:8080"]
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    console = (args.console, args.console_listen, tls)
    if args.out:
        write(args.out, args.upstream, listen, args.sticky_key, args.workers, args.user, args.rest, *console)
        print(args.out)
    else:
        sys.stdout.write(
            render(args.upstream, listen, args.prefix, args.sticky_key, args.workers, args.user, args.rest, *console)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
