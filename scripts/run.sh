#!/usr/bin/env bash
# Start the action server, the Rasa server and the care-team console together; Ctrl-C stops all three.
set -euo pipefail
RASA_PORT=${1:-5005}
ACTIONS_PORT=${2:-5055}
CONSOLE_PORT=${3:-5080}
BIN=.venv/bin
export RASA_TELEMETRY_ENABLED=false  # no telemetry or crash reports leave the machine
mkdir -p var logs

ENDPOINTS=endpoints.yml
if [ "$ACTIONS_PORT" != 5055 ]; then
  ENDPOINTS=var/endpoints.local.yml
  sed "s#localhost:5055#localhost:$ACTIONS_PORT#" endpoints.yml > "$ENDPOINTS"
fi

# The secret the Rasa server sends on every call and the action server checks (401 without it).
# A new random one per run unless one is set; never written to a file.
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  ACTION_SERVER_TOKEN=$("$BIN/python" -c 'import secrets; print(secrets.token_hex(32))')
fi
export ACTION_SERVER_TOKEN
# Links sent to patients (their copy of the record) open on this Rasa server unless one is set.
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://localhost:$RASA_PORT}

pids=()
stop() {
  echo; echo "==> stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "==> starting the action server on port $ACTIONS_PORT (log: logs/actions.log)"
# `python -m bot actions` is rasa_sdk's action server on 127.0.0.1, answering only callers with the token.
"$BIN/python" -m bot actions --port "$ACTIONS_PORT" > logs/actions.log 2>&1 &
pids+=($!)
echo "==> starting the Rasa server on port $RASA_PORT (log: logs/rasa.log)"
# `python -m bot serve` is `rasa run` with the project's speed-ups of Rasa installed first (bot/rasa/serve.py).
"$BIN/python" -m bot serve --model models/rhizotomy.tar.gz --endpoints "$ENDPOINTS" --credentials credentials.yml \
  --port "$RASA_PORT" > logs/rasa.log 2>&1 &
pids+=($!)
echo "==> starting the care-team console on port $CONSOLE_PORT (log: logs/console.log)"
# `python -m bot console serve`: FastAPI on 127.0.0.1, staff sign in; it migrates its own tables (Alembic).
export CONSOLE_PUBLIC_URL=${CONSOLE_PUBLIC_URL:-http://localhost:$CONSOLE_PORT}
"$BIN/python" -m bot console serve --port "$CONSOLE_PORT" > logs/console.log 2>&1 &
pids+=($!)

# REST answers this machine only, or with REST_API_TOKEN set only that bearer token (bot/channels/rest/).
rest_auth=()
if [ -n "${REST_API_TOKEN:-}" ]; then rest_auth=(-H "Authorization: Bearer $REST_API_TOKEN"); fi

printf "==> waiting for the assistant"
for _ in $(seq 1 120); do
  # The action server first: while it starts, the Rasa server answers with its apology instead.
  if curl -fsS "http://localhost:$ACTIONS_PORT/health" >/dev/null 2>&1 && curl -fsS -X POST "http://localhost:$RASA_PORT/webhooks/rest/webhook" -H 'Content-Type: application/json' \
      "${rest_auth[@]}" -d '{"sender":"make-run-warmup","message":"/show_menu"}' 2>/dev/null | grep -q text; then
    echo " ready."
    cat <<INFO

  The assistant is running. Ctrl-C stops it.

  Website demo (chat widget):  http://localhost:$RASA_PORT/widget/demo
  REST channel (this machine): curl -X POST http://localhost:$RASA_PORT/webhooks/rest/webhook \\
                                 -H 'Content-Type: application/json' \\
                                 -d '{"sender": "me", "message": "how long does it take?"}'
  SMS webhook (Twilio):        POST http://localhost:$RASA_PORT/webhooks/sms/webhook  (docs/sms.md)
  Care-team console:           http://localhost:$CONSOLE_PORT/   (first account: .venv/bin/python -m bot staff add NAME --role admin)
  Care team, in a terminal:    .venv/bin/python -m bot flags list
                               .venv/bin/python -m bot consent list
INFO
    wait -n "${pids[@]}" || true
    echo "error: a server stopped; see logs/rasa.log, logs/actions.log and logs/console.log" >&2
    exit 1
  fi
  if ! kill -0 "${pids[@]}" 2>/dev/null; then
    echo; echo "error: a server failed to start; see logs/rasa.log, logs/actions.log and logs/console.log" >&2
    tail -5 logs/rasa.log logs/actions.log logs/console.log >&2 || true
    exit 1
  fi
  printf "."
  sleep 1
done
echo; echo "error: the assistant did not answer within 120 s; see logs/rasa.log" >&2
exit 1
