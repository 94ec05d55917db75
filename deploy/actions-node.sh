#!/usr/bin/env bash
# One action server of a several-server deployment (docs/scaling.md).
#   deploy/actions-node.sh [PORT]      (default ACTIONS_PORT or 5055)
# ACTIONS_INTERFACE (default 127.0.0.1) is where it listens: the private address the Rasa servers reach.
# ACTION_SERVER_TOKEN (required, the same on every node): only callers with it get an answer (401 otherwise).
# It keeps no state between calls: the project's tables are in DATABASE_URL (PostgreSQL), shared
# with the Rasa servers' tracker store. Several action servers can sit behind one URL.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false  # no telemetry or crash reports leave the machine (README)
PORT=${1:-${ACTIONS_PORT:-5055}}
: "${DATABASE_URL:?DATABASE_URL must name the shared PostgreSQL database}"
: "${ACTION_SERVER_TOKEN:?ACTION_SERVER_TOKEN must be set: the same long random value on every node (openssl rand -hex 32)}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
# `python -m bot actions` is rasa_sdk's action server answering only callers with ACTION_SERVER_TOKEN.
exec .venv/bin/python -m bot actions --interface "${ACTIONS_INTERFACE:-127.0.0.1}" --port "$PORT"
