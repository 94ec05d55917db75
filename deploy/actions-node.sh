#!/usr/bin/env bash
# One action server of a several-server deployment (docs/scaling.md).
#   deploy/actions-node.sh [PORT]      (default ACTIONS_PORT or 5055)
# ACTIONS_INTERFACE (default 127.0.0.1) is where it listens: the private address the Rasa servers reach.
# It keeps no state between calls: the project's tables are in DATABASE_URL (PostgreSQL), shared
# with the Rasa servers' tracker store. Several action servers can sit behind one URL.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false  # no telemetry or crash reports leave the machine (README)
PORT=${1:-${ACTIONS_PORT:-5055}}
: "${DATABASE_URL:?DATABASE_URL must name the shared PostgreSQL database}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export SANIC_HOST="${ACTIONS_INTERFACE:-127.0.0.1}"   # rasa_sdk reads its listen address from SANIC_HOST
exec .venv/bin/rasa run actions --actions actions --port "$PORT"
