#!/usr/bin/env bash
# Install (Debian's redis-server package) and start a Redis on loopback for Rasa's lock store.
#   scripts/start-redis.sh         start (or reuse) it; prints redis://127.0.0.1:PORT/DB on the last line
#   scripts/start-redis.sh stop    stop the instance this script started (found by its pid file)
# Its own instance: port REDIS_PORT (default 6390), data under REDIS_DIR (default build/redis),
# nothing saved to disk, protected mode. If something already answers PING on that port it is reused.
# Exits non-zero with one line saying why if it can't.
set -euo pipefail
PORT=${REDIS_PORT:-6390}
DB=${REDIS_DB:-1}
DIR=${REDIS_DIR:-build/redis}
PIDFILE="$DIR/redis-$PORT.pid"
say() { echo "redis: $*" >&2; }

if [ "${1:-start}" = stop ]; then
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    pid=$(cat "$PIDFILE")
    say "stopping the instance on port $PORT (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  else
    say "no instance started by this script on port $PORT"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then say "not installed and not root: cannot install"; exit 1; fi
  say "installing Debian's redis-server package..."
  export DEBIAN_FRONTEND=noninteractive
  # Debian's package would start a system-wide Redis; policy-rc.d 101 keeps services from starting.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1; fi
  log=$(mktemp); apt-get update -qq >"$log" 2>&1 && apt-get install -y -qq redis-server >>"$log" 2>&1 || { cat "$log" >&2; [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; say "apt-get install redis-server failed"; exit 1; }
  rm -f "$log"
  [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
  say "already running on 127.0.0.1:$PORT"
else
  mkdir -p "$DIR"
  redis-server --bind 127.0.0.1 --port "$PORT" --protected-mode yes --daemonize yes \
    --pidfile "$(cd "$DIR" && pwd)/redis-$PORT.pid" --dir "$(cd "$DIR" && pwd)" \
    --logfile "$(cd "$DIR" && pwd)/redis-$PORT.log" --save '' --appendonly no >&2 \
    || { say "redis-server did not start (see $DIR/redis-$PORT.log)"; exit 1; }
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG || { say "no answer on 127.0.0.1:$PORT"; exit 1; }
  say "started on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
fi
echo "redis://127.0.0.1:$PORT/$DB"
