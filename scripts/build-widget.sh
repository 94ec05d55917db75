#!/usr/bin/env bash
# Build the website widget into widget/dist/ with the npm registry's packages (lock file committed).
# Its words come from content/widget.yml (clinic facts from the clinic file filled in): they are
# checked and written to build/widget/texts.json first, and the bundle is built again when they change.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="$root/.venv/bin/python"
if [ ! -x "$python" ]; then
  echo "error: $python is missing: run \`make venv\` first" >&2
  exit 1
fi
cd "$root/widget"
if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm is not installed (it comes with Node.js; apt-get install nodejs npm)" >&2
  exit 1
fi
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "==> installing the widget's npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
# A typo in content/ stops here with the file and the field named. Rewritten only when changed.
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" "$python" -m bot content check >/dev/null
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" "$python" -c \
  'from bot.content.widget import write_bundle_texts; write_bundle_texts()'
texts="$root/build/widget/texts.json"
newest_source=$(find src build.mjs protocol.json package-lock.json "$texts" -newer dist/widget.js 2>/dev/null | head -1 || true)
if [ ! -f dist/widget.js ] || [ -n "$newest_source" ]; then
  echo "==> bundling the widget (widget/dist/widget.js)"
  npm run --silent build
fi
