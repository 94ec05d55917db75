#!/usr/bin/env bash
# Everything `make test` runs after the models are built: lint, data validation, the measured
# evaluations, the test stories and pytest. The evaluations run beside pytest (each mostly keeps
# one core busy; on two cores that saves their six minutes) and print their report when pytest
# is done; a summary of every step closes the output.
set -uo pipefail
BIN=.venv/bin
MODEL=models/rhizotomy.tar.gz
status=0
declare -A step

make --no-print-directory lint && step[lint]=ok || { step[lint]=FAILED; status=1; }
make --no-print-directory validate && step[validate]=ok || { step[validate]=FAILED; status=1; }
echo "==> python -m bot content check"
"$BIN/python" -m bot content check && step[content]=ok || { step[content]=FAILED; status=1; }

echo "==> starting PostgreSQL for the store tests"
if url=$(scripts/start-postgres.sh); then
  export TEST_POSTGRES_URL="$url"
else
  echo "warning: PostgreSQL could not be started; its tests will be skipped with that reason"
fi

if [ -x scripts/install-browser.sh ]; then
  echo "==> making sure headless Chromium is installed for the browser tests"
  scripts/install-browser.sh || echo "warning: Chromium could not be installed; browser tests will say why"
fi

mkdir -p results
echo "==> evaluations (scripts/evaluate.sh) started beside the test stories and pytest; their report follows pytest's"
scripts/evaluate.sh > results/evaluate.log 2>&1 &
evaluations=$!
trap 'pkill -P "$evaluations" 2>/dev/null; kill "$evaluations" 2>/dev/null' INT TERM

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
