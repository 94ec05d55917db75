#!/usr/bin/env bash
# Install (Debian's nginx package) and run nginx with one configuration file, on loopback.
#   scripts/start-nginx.sh CONF          start it (or reload it if this CONF's nginx already runs)
#   scripts/start-nginx.sh CONF stop     stop the nginx started with CONF
#   scripts/start-nginx.sh --install     only make sure nginx is installed
# CONF is a full nginx.conf (deploy/nginx.py renders one) naming its own pid file, logs and
# listen addresses; the system's nginx service and /etc/nginx are never used or started.
set -euo pipefail
say() { echo "nginx: $*" >&2; }

install() {
  if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then return 0; fi
  if [ "$(id -u)" != 0 ]; then say "not installed and not root: cannot install"; exit 1; fi
  say "installing Debian's nginx package..."
  export DEBIAN_FRONTEND=noninteractive
  # The package would start the default site on port 80 of every interface; policy-rc.d 101 prevents it.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
  log=$(mktemp); apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq nginx >>"$log" 2>&1 || { cat "$log" >&2; [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; say "apt-get install nginx failed"; exit 1; }
  rm -f "$log"
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

if [ "${1:-}" = --install ]; then install; exit 0; fi
CONF=${1:?usage: scripts/start-nginx.sh CONF [stop]}
CONF=$(cd "$(dirname "$CONF")" && pwd)/$(basename "$CONF")
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PIDFILE=$(awk '$1=="pid" {gsub(";","",$2); print $2}' "$CONF")
[ -n "$PIDFILE" ] || { say "$CONF names no pid file"; exit 1; }
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

if [ "${2:-start}" = stop ]; then
  if running; then
    pid=$(cat "$PIDFILE")
    say "stopping (pid $pid)"
    "$NGINX" -c "$CONF" -e stderr -s quit 2>/dev/null || kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  else
    say "not running for $CONF"
  fi
  exit 0
fi

install
"$NGINX" -t -q -c "$CONF" -e stderr >&2 || { say "configuration test failed for $CONF"; exit 1; }
if running; then
  say "reloading (pid $(cat "$PIDFILE"))"
  "$NGINX" -c "$CONF" -e stderr -s reload >&2
  sleep 0.5
else
  "$NGINX" -c "$CONF" -e stderr >&2 || { say "did not start; see the error log named in $CONF"; exit 1; }
  for _ in $(seq 1 50); do running && break; sleep 0.1; done
  running || { say "did not start; see the error log named in $CONF"; exit 1; }
  say "started (pid $(cat "$PIDFILE"))"
fi
awk '$1=="listen" {gsub(";","",$2); print "http://"$2; exit}' "$CONF"
