#!/usr/bin/env bash
# One Rasa server of a several-server deployment (docs/scaling.md).
#   deploy/rasa-node.sh [PORT]        (default RASA_PORT or 5005)
# Environment (e.g. from /etc/rhizotomy/env, see deploy/env.example): DATABASE_URL (PostgreSQL),
# REDIS_URL, WIDGET_SESSION_SECRET, ACTION_ENDPOINT_URL, WIDGET_ALLOWED_ORIGINS, and the channel
# secrets. RASA_INTERFACE (default 127.0.0.1: nginx on the same machine) is where it listens.
# RASA_API_TOKEN, if set, enables Rasa's HTTP API with that token (never proxied by nginx).
# ACTION_SERVER_TOKEN (required): sent on every call to the action servers (deploy/endpoints.yml).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false  # no telemetry or crash reports leave the machine (README)
PORT=${1:-${RASA_PORT:-5005}}
MODEL=${RASA_MODEL:-models/rhizotomy.tar.gz}
settings=$(.venv/bin/python -m deploy.settings) || exit 1
: "${ACTION_SERVER_TOKEN:?ACTION_SERVER_TOKEN must be set: the same long random value as the action servers}"
eval "$settings"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
api=()
if [ -n "${RASA_API_TOKEN:-}" ]; then api=(--enable-api --auth-token "$RASA_API_TOKEN"); fi
# `python -m bot serve` is `rasa run` with the project's speed-ups of Rasa installed first (bot/rasa/serve.py).
exec .venv/bin/python -m bot serve --model "$MODEL" --endpoints deploy/endpoints.yml --credentials credentials.yml \
  --interface "${RASA_INTERFACE:-127.0.0.1}" --port "$PORT" "${api[@]}"
