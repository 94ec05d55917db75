#!/usr/bin/env bash
# make scale-test: two Rasa servers and one action server on PostgreSQL (tracker store + the
# project's tables) and Redis (lock store) behind nginx, all on loopback (docs/scaling.md).
# Installs and starts PostgreSQL, Redis and nginx from Debian's packages when missing, runs the
# checks of bench/scale.py, and stops what it started (servers, nginx, its Redis, and PostgreSQL
# if it was not running before and nobody else is connected to it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
MODEL=models/rhizotomy.tar.gz
export TF_CPP_MIN_LOG_LEVEL=3 SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore PYTHONPATH="$PWD"
[ -f "$MODEL" ] || { echo "error: $MODEL is missing: run \`make model\` first" >&2; exit 1; }

pg_online() { command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | awk '$4 ~ /online/' | grep -q .; }
pg_was_online=0; pg_online && pg_was_online=1
redis_started=0
driver=
NGINX_CONF=build/scale-test/nginx/nginx.conf
stop() {
  status=$?
  if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then kill -TERM "$driver" 2>/dev/null || true; wait "$driver" 2>/dev/null || true; fi
  if [ -f "$NGINX_CONF" ]; then scripts/start-nginx.sh "$NGINX_CONF" stop >/dev/null 2>&1 || true; fi
  if [ $redis_started = 1 ]; then scripts/start-redis.sh stop || true; fi
  if [ $pg_was_online = 0 ] && pg_online; then
    others=$(su postgres -c "psql -qtAc \"SELECT count(*) FROM pg_stat_activity WHERE backend_type='client backend' AND pid <> pg_backend_pid()\"" 2>/dev/null || echo 0)
    if [ "${others:-0}" -gt 0 ]; then
      echo "postgres: started by this test but $others other connection(s) use it now: left running" >&2
    else
      echo "postgres: stopping the cluster this test started" >&2
      pg_lsclusters -h | awk '$4 ~ /online/ {print $1, $2}' | while read -r version cluster; do
        pg_ctlcluster "$version" "$cluster" stop || true
      done
    fi
  fi
  exit $status
}
trap stop EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

echo "==> PostgreSQL (tracker store and the project's tables)"
SCALE_DATABASE_URL=$(PG_TEST_DB=rhizotomy_scale scripts/start-postgres.sh)
export SCALE_DATABASE_URL

echo "==> Redis (lock store)"
redis_port=${REDIS_PORT:-6390}
if ! (command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG); then
  redis_started=1
fi
SCALE_REDIS_URL=$(scripts/start-redis.sh)
export SCALE_REDIS_URL

echo "==> nginx"
scripts/start-nginx.sh --install

# In the background so a TERM to this script reaches it (stop() passes it on and waits).
"$BIN/python" -m bench.scale "$@" &
driver=$!
wait "$driver"
