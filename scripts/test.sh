#!/usr/bin/env bash
# Everything `make test` runs: the set-up (venv, models, widget; PostgreSQL and Chromium beside it),
# lint, data validation, the measured evaluations, the test stories and pytest. The evaluations run
# beside the rest (each gate mostly keeps one core busy; on two cores that saves their minutes) and
# print their report when pytest is done; a summary of every step closes the output.
set -uo pipefail
BIN=.venv/bin
MODEL=models/rhizotomy.tar.gz
status=0
declare -A step
mkdir -p results

# PostgreSQL and Chromium come from Debian's packages on a fresh machine: minutes of downloads that need
# neither Python nor the model, so they install while the venv is made and the models train.
echo "==> installing and starting PostgreSQL and headless Chromium for the tests, beside the set-up (results/services.log)"
(
  scripts/start-postgres.sh > results/postgres.url
  scripts/install-browser.sh || echo "warning: Chromium could not be installed; browser tests will say why"
) > results/services.log 2>&1 &
services=$!

make --no-print-directory model widget || { echo "FAILED: set-up (venv, models, widget)"; wait "$services"; exit 1; }

# The evaluations need only the model; they run beside everything after it (each gate mostly keeps one core
# busy) and print their report when pytest is done.
echo "==> evaluations (scripts/evaluate.sh) started beside the checks, the test stories and pytest; their report follows pytest's"
scripts/evaluate.sh > results/evaluate.log 2>&1 &
evaluations=$!
trap 'pkill -P "$evaluations" 2>/dev/null; kill "$evaluations" "$services" 2>/dev/null' INT TERM

make --no-print-directory lint && step[lint]=ok || { step[lint]=FAILED; status=1; }
make --no-print-directory validate && step[validate]=ok || { step[validate]=FAILED; status=1; }
echo "==> python -m bot content check"
"$BIN/python" -m bot content check && step[content]=ok || { step[content]=FAILED; status=1; }

echo "==> waiting for PostgreSQL and Chromium (results/services.log)"
wait "$services"
sed 's/^/  /' results/services.log | tail -5
if url=$(tail -1 results/postgres.url 2>/dev/null) && [ -n "$url" ]; then
  export TEST_POSTGRES_URL="$url"
else
  echo "warning: PostgreSQL could not be started; its tests will be skipped with that reason"
fi

echo "==> test stories: rasa test core --stories tests/stories/ --fail-on-prediction-errors"
if ! "$BIN/rasa" test core --stories tests/stories/ --model "$MODEL" --out results/core --fail-on-prediction-errors \
    --quiet > results/core.log 2>&1; then
  echo "FAILED: test stories (results/core/failed_test_stories.yml):"
  cat results/core/failed_test_stories.yml 2>/dev/null | head -60
  step[stories]=FAILED; status=1
else
  grep -hE "Finished evaluation|Correct:|Accuracy" results/core.log | sed 's/^/  /' | tail -4 || true
  echo "  all test stories passed"
  step[stories]=ok
fi

echo "==> pytest (unit, end-to-end over REST, SMS and socket, browser)"
"$BIN/python" -m pytest && step[pytest]=ok || { step[pytest]=FAILED; status=1; }

kill -0 "$evaluations" 2>/dev/null && echo "==> waiting for the evaluations to finish"
wait "$evaluations" && step[evaluations]=ok || { step[evaluations]=FAILED; status=1; }
echo "==> evaluations (results/evaluate.log)"
cat results/evaluate.log

echo "==> make test: lint ${step[lint]}, data ${step[validate]}, content ${step[content]}, test stories ${step[stories]}, pytest ${step[pytest]}, evaluations ${step[evaluations]}"
exit $status
