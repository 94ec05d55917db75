#!/usr/bin/env bash
# Everything `make test` runs after lint and data validation. pytest runs last so its summary closes the output.
set -uo pipefail
BIN=.venv/bin
MODEL=models/rhizotomy.tar.gz
status=0

make --no-print-directory lint || status=1
make --no-print-directory validate || status=1
echo "==> python -m bot content check"
"$BIN/python" -m bot content check || status=1

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

scripts/evaluate.sh || status=1

echo "==> test stories: rasa test core --stories tests/stories/ --fail-on-prediction-errors"
if ! "$BIN/rasa" test core --stories tests/stories/ --model "$MODEL" --out results/core --fail-on-prediction-errors \
    --quiet > results/core.log 2>&1; then
  echo "FAILED: test stories (results/core/failed_test_stories.yml):"
  cat results/core/failed_test_stories.yml 2>/dev/null | head -60
  status=1
else
  grep -hE "Finished evaluation|Correct:|Accuracy" results/core.log | sed 's/^/  /' | tail -4 || true
  echo "  all test stories passed"
fi

echo "==> pytest (unit, end-to-end over REST, SMS and socket, browser)"
"$BIN/python" -m pytest || status=1
exit $status
